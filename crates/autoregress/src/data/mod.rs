//! Data: the lecture's toy sequences and MNIST's IDX files (as bytes; files are the trainer's).

pub mod idx;
pub mod toy;

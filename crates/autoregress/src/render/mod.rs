//! Pictures of sequences, digits and predicted distributions, as the lecture draws them.

pub mod figures;
pub mod raster;

pub use raster::Raster;

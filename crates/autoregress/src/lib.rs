//! Auto-regressive generative models, after F. Fleuret's lecture "Deep learning 10.1
//! Auto-regression".
//!
//! A sequence `X_1..X_T` of values in `0..C` is modelled one position at a time: a network maps a
//! *conditioning event* (a Boolean mask of known positions and their values) to the logits of the
//! next value. This crate holds everything that does not touch files or the DOM, so that the
//! native trainer, the tests and the browser run exactly the same code:
//!
//! | module | what |
//! | --- | --- |
//! | [`event`] | conditioning events as (mask, values) tensors |
//! | [`sampling`] | batched categorical sampling from logits, on the device |
//! | [`batch`] | training batches: the lecture's one random position per sequence; random sets of known positions for the any-order models |
//! | [`generate`](mod@generate) | the one auto-regressive generation routine (sampling and in-painting) |
//! | [`host`] | tensors read back to the host (native) |
//! | [`models`] | the lecture's 1-D convnet (toy) and LeNet-like convnet (MNIST); our any-order networks |
//! | [`region`] | named image regions to erase for in-painting |
//! | `train` | the training step (feature `train`): the batch's loss, its gradients, Adam; shared by the trainer and the page |
//! | [`weights`] | weights to and from bytes, with what inference needs |
//! | [`metrics`] | exact negative log-likelihood over all positions, perplexity, bits/dim; the channels that never vary |
//! | [`data`] | the toy generator and its validity check, MNIST IDX files |
//! | [`defaults`] | per-model defaults: training options, visiting order, positions per step |
//! | [`render`] | the lecture's figures as RGB rasters (PNG in the trainer, canvas in the page) |
//! | [`rng`] | the seeded SplitMix64 generator behind data, masks and orders |
//!
//! Shapes are written `[N, L]` (batch, sequence length `L`, the lecture's `T`), `[N, C]` (logits
//! over the `C` values a position takes) and `[N, C, L]` (logits of every position). Losses and
//! likelihoods are in nats unless a name says bits. The any-order models and their objective
//! follow Uria et al. 2014 ("A deep and tractable density estimator"), Hoogeboom et al. 2021
//! ("Autoregressive diffusion models") and Shih et al. 2022 ("Training and inference on
//! any-order autoregressive models the right way").

#![warn(missing_docs)]

pub mod batch;
pub mod data;
pub mod defaults;
pub mod event;
pub mod generate;
pub mod host;
pub mod metrics;
pub mod models;
pub mod region;
pub mod render;
pub mod rng;
pub mod sampling;
#[cfg(feature = "train")]
pub mod train;
pub mod weights;

pub use burn;
pub use generate::{GenerateOptions, Generation, NextDistribution, Schedule, VisitingOrder, generate};
pub use models::{ArModel, ModelKind, ModelSpec};

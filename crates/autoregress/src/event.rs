//! Conditioning events: `{X_t(1) = x_1, ..., X_t(N) = x_N}` as two tensors of the sequence's
//! length, a mask (1 where the variable is conditioned) and the conditioning values (0 elsewhere).

use burn::tensor::{Device, Tensor, TensorData};

/// A set of known `(position, value)` pairs, positions counted from 0. The values go into the
/// tensors as given: pass normalized ones (see [`crate::ArModel::normalize`]) to
/// [`crate::ArModel::forward`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Event(pub Vec<(usize, f32)>);

/// Why [`event_rows`] refused a list of events.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum EventError {
    /// A position not below the sequence length.
    #[error("event {event}: position {position} is outside a sequence of length {len}")]
    PositionOutOfRange {
        /// Index of the event in the list.
        event: usize,
        /// The position given.
        position: usize,
        /// The sequence length.
        len: usize,
    },
    /// A position given twice in one event (even with the same value).
    #[error("event {event}: position {position} is given twice")]
    DuplicatePosition {
        /// Index of the event in the list.
        event: usize,
        /// The repeated position.
        position: usize,
    },
}

/// Host-side (mask, values) rows of shape `[events.len(), len]`, row-major: the mask is 1.0 at
/// the event's positions and 0.0 elsewhere, the values are the event's there and 0.0 elsewhere.
///
/// # Errors
/// [`EventError::PositionOutOfRange`] for a position `>= len`, [`EventError::DuplicatePosition`]
/// for a position given twice in one event; the first one found, in list order.
pub fn event_rows(events: &[Event], len: usize) -> Result<(Vec<f32>, Vec<f32>), EventError> {
    let mut mask = vec![0.0; events.len() * len];
    let mut values = vec![0.0; events.len() * len];
    for (e, event) in events.iter().enumerate() {
        for &(position, value) in &event.0 {
            if position >= len {
                return Err(EventError::PositionOutOfRange { event: e, position, len });
            }
            let i = e * len + position;
            if mask[i] != 0.0 {
                return Err(EventError::DuplicatePosition { event: e, position });
            }
            mask[i] = 1.0;
            values[i] = value;
        }
    }
    Ok((mask, values))
}

/// The batched (mask, values) tensors, each `[events.len(), len]`, on `device`: the
/// [`event_rows`] as tensors, the input of [`crate::ArModel::forward`].
///
/// # Errors
/// As [`event_rows`].
pub fn event_tensors(
    events: &[Event],
    len: usize,
    device: &Device,
) -> Result<(Tensor<2>, Tensor<2>), EventError> {
    let (mask, values) = event_rows(events, len)?;
    let shape = [events.len(), len];
    Ok((
        Tensor::from_data(TensorData::new(mask, shape), device),
        Tensor::from_data(TensorData::new(values, shape), device),
    ))
}

/// The event "the first `t` positions are known" as a mask of `len` values (1.0 before `t`,
/// 0.0 from `t` on): the lecture's `tics < t`, the conditioning of the next value at `t`.
pub fn prefix_mask(t: usize, len: usize) -> Vec<f32> {
    (0..len).map(|i| if i < t { 1.0 } else { 0.0 }).collect()
}

//! Conditioning events: `{X_t(1) = x_1, ..., X_t(N) = x_N}` as two tensors of the sequence's
//! length, a mask (1 where the variable is conditioned) and the conditioning values (0 elsewhere).

use burn::tensor::{Device, Tensor, TensorData};
use std::fmt;

/// A set of known `(position, value)` pairs, positions counted from 0.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Event(pub Vec<(usize, f32)>);

#[derive(Clone, Debug, PartialEq)]
pub enum EventError {
    PositionOutOfRange { event: usize, position: usize, len: usize },
    DuplicatePosition { event: usize, position: usize },
}

impl fmt::Display for EventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventError::PositionOutOfRange { event, position, len } => write!(
                f,
                "event {event}: position {position} is outside a sequence of length {len}"
            ),
            EventError::DuplicatePosition { event, position } => {
                write!(f, "event {event}: position {position} is given twice")
            }
        }
    }
}

impl std::error::Error for EventError {}

/// Host-side (mask, values) rows of shape `[events.len(), len]`, row-major.
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

/// The batched (mask, values) tensors, each `[events.len(), len]`.
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

/// The event "the first `t` positions are known": the mask `tics < t` of the lecture.
pub fn prefix_mask(t: usize, len: usize) -> Vec<f32> {
    (0..len).map(|i| if i < t { 1.0 } else { 0.0 }).collect()
}

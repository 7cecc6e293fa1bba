//! Weights to and from bytes: a burnpack whose metadata carries the [`ModelSpec`] (which network,
//! the sequence length, the number of values, the training mean and std), so that a weights file
//! is all the browser or the trainer needs to rebuild the model.

use crate::models::{ArModel, ModelKind, ModelSpec, SpecError};
use burn::store::burn_pack::{Bytes, Reader};
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Device;
use std::collections::BTreeMap;

const FORMAT_KEY: &str = "autoregress.format";
const FORMAT: &str = "autoregress-weights-1";

/// Why weights could not be written, read or loaded.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum WeightsError {
    /// No bytes at all (a failed download or copy).
    #[error("the file is empty (0 bytes): no weights in it (a failed download or copy?); train the model again or use the committed weights")]
    Empty,
    /// Not a burnpack, or a damaged one.
    #[error("not a readable weights file (burnpack): {0}")]
    Unreadable(String),
    /// The store failed to serialize the model ([`to_bytes`]).
    #[error("the weights could not be serialized: {0}")]
    Unwritable(String),
    /// A burnpack, but without this project's format marker (`autoregress-weights-1`).
    #[error("a burnpack, but not weights written by this project's trainer")]
    NotOurs,
    /// Metadata missing or malformed.
    #[error("bad weights metadata: {0}")]
    BadMetadata(String),
    /// Metadata describing a model this project cannot build.
    #[error("bad weights metadata: {0}")]
    BadSpec(SpecError),
    /// Weights of another model than the one asked for.
    #[error("these are weights of the {} model, where the {} model was expected", found.name(), expected.name())]
    WrongModel {
        /// The kind the caller asked for.
        expected: ModelKind,
        /// The kind the metadata names.
        found: ModelKind,
    },
    /// The tensors do not fit the network the metadata describes (as weights written before
    /// the network's architecture last changed).
    #[error(
        "the tensors do not fit the model (weights from another version of its network? train it \
         again, or use the weights committed in web/weights/): {0}"
    )]
    Mismatch(String),
    /// A tensor holds NaN or an infinity (a diverged or damaged training run).
    #[error("tensor {tensor} holds NaN or infinite values: these weights come from a diverged or damaged run; train again")]
    NonFinite {
        /// The tensor's name in the burnpack (the first one found, by name).
        tensor: String,
    },
}

/// The metadata keys of the spec, each written and read by the code below.
const MODEL_KEY: &str = "autoregress.model";
const SEQ_LEN_KEY: &str = "autoregress.seq_len";
const WIDTH_KEY: &str = "autoregress.width";
const NUM_VALUES_KEY: &str = "autoregress.num_values";
const MEAN_KEY: &str = "autoregress.mean";
const STD_KEY: &str = "autoregress.std";

fn spec_metadata(spec: &ModelSpec) -> [(&'static str, String); 7] {
    [
        (FORMAT_KEY, FORMAT.to_string()),
        (MODEL_KEY, spec.kind.name().to_string()),
        (SEQ_LEN_KEY, spec.seq_len.to_string()),
        (WIDTH_KEY, spec.width.to_string()),
        (NUM_VALUES_KEY, spec.num_values.to_string()),
        (MEAN_KEY, format!("{:?}", spec.mean)),
        (STD_KEY, format!("{:?}", spec.std)),
    ]
}

fn spec_from_metadata(meta: &BTreeMap<String, String>) -> Result<ModelSpec, WeightsError> {
    if meta.get(FORMAT_KEY).map(String::as_str) != Some(FORMAT) {
        return Err(WeightsError::NotOurs);
    }
    fn field<'a>(meta: &'a BTreeMap<String, String>, key: &str) -> Result<&'a str, WeightsError> {
        meta.get(key).map(String::as_str).ok_or_else(|| WeightsError::BadMetadata(format!("missing {key}")))
    }
    fn num<T: std::str::FromStr>(meta: &BTreeMap<String, String>, key: &str) -> Result<T, WeightsError> {
        let v = field(meta, key)?;
        let name = key.trim_start_matches("autoregress.");
        v.parse().map_err(|_| WeightsError::BadMetadata(format!("{name} = {v:?} is not a number")))
    }
    let model = field(meta, MODEL_KEY)?;
    let kind = ModelKind::from_name(model)
        .ok_or_else(|| WeightsError::BadMetadata(format!("unknown model {model:?}")))?;
    let spec = ModelSpec {
        kind,
        seq_len: num(meta, SEQ_LEN_KEY)?,
        width: num(meta, WIDTH_KEY)?,
        num_values: num(meta, NUM_VALUES_KEY)?,
        mean: num(meta, MEAN_KEY)?,
        std: num(meta, STD_KEY)?,
    };
    spec.validate().map_err(WeightsError::BadSpec)?;
    Ok(spec)
}

/// The model's weights and spec as burnpack bytes, read back by [`from_bytes`].
///
/// # Errors
/// [`WeightsError::Unwritable`] (with Burn's message) if the store cannot collect or serialize
/// the tensors.
pub fn to_bytes(model: &ArModel) -> Result<Vec<u8>, WeightsError> {
    let mut store = BurnpackStore::from_bytes(None);
    for (key, value) in spec_metadata(&model.spec) {
        store = store.metadata(key, value);
    }
    model.save_into(&mut store).map_err(|e| WeightsError::Unwritable(e.to_string()))?;
    let bytes = store.get_bytes().map_err(|e| WeightsError::Unwritable(e.to_string()))?;
    Ok(bytes.to_vec())
}

/// The spec stored in weights bytes, without loading the tensors (cheap: for showing what a file
/// holds, or picking the model kind before [`from_bytes`]).
///
/// # Errors
/// [`WeightsError::Unreadable`] for bytes that are no burnpack, [`WeightsError::NotOurs`] without
/// this project's format marker, [`WeightsError::BadMetadata`] for a missing or unparsable key
/// or an unknown model name, [`WeightsError::BadSpec`] for a spec [`ModelSpec::validate`]
/// rejects.
pub fn read_spec(bytes: &[u8]) -> Result<ModelSpec, WeightsError> {
    if bytes.is_empty() {
        return Err(WeightsError::Empty);
    }
    let reader = Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| WeightsError::Unreadable(e.to_string()))?;
    spec_from_metadata(reader.metadata())
}

/// The first `f32` tensor (by name) holding a NaN or an infinity, read on the host. Tensors of
/// other dtypes are not checked.
fn first_non_finite(bytes: &[u8]) -> Result<Option<String>, WeightsError> {
    let reader = Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| WeightsError::Unreadable(e.to_string()))?;
    for tensor in reader.into_tensors().map_err(|e| WeightsError::Unreadable(e.to_string()))? {
        if tensor.dtype != burn::tensor::DType::F32 {
            continue;
        }
        let data = tensor.to_bytes().map_err(|e| WeightsError::Unreadable(e.to_string()))?;
        let finite = data.chunks_exact(4).all(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")).is_finite());
        if !finite {
            return Ok(Some(tensor.name));
        }
    }
    Ok(None)
}

/// Rebuilds a model from weights bytes on `device`; `expected`, when given, is the model kind
/// the caller needs.
///
/// # Errors
/// Bytes that are no burnpack or not ours, bad metadata (including a normalization that is not
/// finite), weights of another model than `expected`, tensors that do not fit, or any tensor
/// holding NaN or an infinity ([`WeightsError::NonFinite`], naming it).
pub fn from_bytes(bytes: &[u8], expected: Option<ModelKind>, device: &Device) -> Result<ArModel, WeightsError> {
    let spec = read_spec(bytes)?;
    if let Some(tensor) = first_non_finite(bytes)? {
        return Err(WeightsError::NonFinite { tensor });
    }
    if let Some(expected) = expected.filter(|&e| e != spec.kind) {
        return Err(WeightsError::WrongModel { expected, found: spec.kind });
    }
    let mut model = ArModel::new(spec, device).map_err(WeightsError::BadSpec)?;
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())));
    model.load_from(&mut store).map_err(|e| WeightsError::Mismatch(e.to_string()))?;
    Ok(model)
}

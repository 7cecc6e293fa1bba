//! Weights to and from bytes: a burnpack whose metadata carries the [`ModelSpec`] (which network,
//! the sequence length, the number of values, the training mean and std), so that a weights file
//! is all the browser or the trainer needs to rebuild the model.

use crate::models::{ArModel, ModelKind, ModelSpec, SpecError};
use burn::store::burn_pack::{Bytes, Reader};
use burn::store::{BurnpackStore, FloatCastAdapter, ModuleSnapshot};
use burn::tensor::{DType, Device};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

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

/// How a weights file stores its float tensors. Either is read back as `f32` for computing
/// ([`from_bytes`]); the figures of each committed model on both are in docs/page.md.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Storage {
    /// 4 bytes a weight, exact: checkpoints, and weights to train further.
    #[default]
    F32,
    /// IEEE half precision, 2 bytes a weight (11 significant bits): what the page downloads.
    F16,
}

impl Storage {
    /// Every storage, in the order the CLI lists them.
    pub const ALL: [Storage; 2] = [Storage::F32, Storage::F16];

    /// The storage's name on the command line and in records.
    pub fn name(self) -> &'static str {
        match self {
            Storage::F32 => "f32",
            Storage::F16 => "f16",
        }
    }

    fn dtype(self) -> DType {
        match self {
            Storage::F32 => DType::F32,
            Storage::F16 => DType::F16,
        }
    }
}

impl fmt::Display for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Storage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Storage::ALL.into_iter().find(|st| st.name() == s).ok_or_else(|| {
            let names: Vec<_> = Storage::ALL.iter().map(|st| st.name()).collect();
            format!("unknown weights storage {s:?}: use one of {}", names.join(", "))
        })
    }
}

/// The model's weights and spec as burnpack bytes with float32 tensors, read back by
/// [`from_bytes`]; [`to_bytes_as`] chooses the storage.
///
/// # Errors
/// [`WeightsError::Unwritable`] (with Burn's message) if the store cannot collect or serialize
/// the tensors.
pub fn to_bytes(model: &ArModel) -> Result<Vec<u8>, WeightsError> {
    to_bytes_as(model, Storage::F32)
}

/// The model's weights and spec as burnpack bytes, float tensors stored as `storage` says
/// (rounded to nearest for [`Storage::F16`]).
///
/// # Errors
/// As [`to_bytes`].
pub fn to_bytes_as(model: &ArModel, storage: Storage) -> Result<Vec<u8>, WeightsError> {
    let mut store = BurnpackStore::from_bytes(None).with_to_adapter(FloatCastAdapter::to(storage.dtype()));
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

/// The first float tensor (by name) holding a NaN or an infinity, read on the host. Tensors of
/// other dtypes are not checked.
fn first_non_finite(bytes: &[u8]) -> Result<Option<String>, WeightsError> {
    let reader = Reader::from_bytes(Bytes::from_bytes_vec(bytes.to_vec()))
        .map_err(|e| WeightsError::Unreadable(e.to_string()))?;
    for tensor in reader.into_tensors().map_err(|e| WeightsError::Unreadable(e.to_string()))? {
        let data = tensor.to_bytes().map_err(|e| WeightsError::Unreadable(e.to_string()))?;
        let finite = match tensor.dtype {
            DType::F32 => data.chunks_exact(4).all(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")).is_finite()),
            DType::F16 => data.chunks_exact(2).all(|c| burn::tensor::f16::from_le_bytes(c.try_into().expect("2 bytes")).is_finite()),
            _ => true,
        };
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
    // Half-precision tensors are widened on load: every kernel computes in f32.
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes.to_vec())))
        .with_from_adapter(FloatCastAdapter::to(DType::F32));
    model.load_from(&mut store).map_err(|e| WeightsError::Mismatch(e.to_string()))?;
    Ok(model)
}

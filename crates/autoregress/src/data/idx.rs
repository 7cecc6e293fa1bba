//! The IDX format of the MNIST files: a magic number (two zero bytes, a type code, the number of
//! dimensions), big-endian u32 sizes, then the data. Only unsigned bytes (type 0x08) are used by
//! MNIST and Fashion-MNIST, so only those are read and written. Counts and sizes always come from
//! the header (the vendored training file holds 10,000 images, not 60,000).


/// An IDX array of unsigned bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    /// The sizes from the header, outermost first (images: count, rows, columns).
    pub dims: Vec<usize>,
    /// The elements, row-major (last dimension fastest), as many as the sizes' product.
    pub data: Vec<u8>,
}

/// Why bytes are not the IDX array asked for.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum IdxError {
    /// No bytes at all (a failed download or copy).
    #[error("the file is empty (0 bytes): it holds no IDX data (a failed download or copy?); replace it with a real IDX file")]
    Empty,
    /// The first four bytes are not `00 00 <type> <rank>` with a rank of at least 1.
    #[error("not an IDX file: it starts with bytes {0:02x?}, IDX files start with 00 00 <type> <dims>")]
    BadMagic([u8; 4]),
    /// An element type other than unsigned bytes (0x08); the type code.
    #[error("IDX element type 0x{0:02x} is not supported (only unsigned bytes, 0x08)")]
    UnsupportedType(u8),
    /// Fewer bytes than the header (or the header's sizes) announce.
    #[error("truncated: the header announces {expected} bytes, the file has {found}")]
    Truncated {
        /// Bytes announced, header included.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// More bytes than the header's sizes announce.
    #[error("{found} bytes where the header announces {expected}: extra data at the end")]
    TrailingBytes {
        /// Bytes announced, header included.
        expected: usize,
        /// Bytes given.
        found: usize,
    },
    /// Another number of dimensions than the caller expects ([`IdxArray::expect_rank`]).
    #[error("{found} dimensions where {expected} are expected")]
    WrongRank {
        /// Dimensions expected.
        expected: usize,
        /// Dimensions in the header.
        found: usize,
    },
    /// The sizes read big-endian do not fit the file, but read little-endian they do: a header
    /// written in the wrong byte order (numpy's `tofile` on x86).
    #[error("the sizes in the header look byte-swapped: read little-endian they are {dims:?} and fit the file, but IDX sizes are big-endian; rewrite the header with big-endian sizes (numpy: '>u4')")]
    ByteSwapped {
        /// The sizes read little-endian.
        dims: Vec<usize>,
    },
    /// The sizes multiply past what any file can hold.
    #[error("the header announces sizes {dims:?}, more bytes than any file holds: the header is damaged")]
    Oversized {
        /// The sizes read (big-endian).
        dims: Vec<usize>,
    },
}

impl IdxArray {
    /// Reads a whole IDX file of unsigned bytes (any rank).
    ///
    /// # Errors
    /// [`IdxError::Empty`] for no bytes, [`IdxError::BadMagic`], [`IdxError::UnsupportedType`] for a type other than 0x08,
    /// [`IdxError::ByteSwapped`] for a little-endian header, [`IdxError::Oversized`] for sizes
    /// whose product overflows, and [`IdxError::Truncated`] or [`IdxError::TrailingBytes`] when
    /// the length is not exactly what the header announces.
    pub fn parse(bytes: &[u8]) -> Result<Self, IdxError> {
        if bytes.is_empty() {
            return Err(IdxError::Empty);
        }
        let header = |n: usize| IdxError::Truncated { expected: n, found: bytes.len() };
        let magic: [u8; 4] = bytes.get(..4).ok_or(header(4))?.try_into().expect("4 bytes");
        if magic[0] != 0 || magic[1] != 0 || magic[3] == 0 {
            return Err(IdxError::BadMagic(magic));
        }
        if magic[2] != 0x08 {
            return Err(IdxError::UnsupportedType(magic[2]));
        }
        let rank = magic[3] as usize;
        let data_start = 4 + 4 * rank;
        let sizes = bytes.get(4..data_start).ok_or(header(data_start))?;
        let read = |from: fn([u8; 4]) -> u32| -> Vec<usize> {
            sizes.chunks(4).map(|c| from(c.try_into().expect("4 bytes")) as usize).collect()
        };
        let total_of = |dims: &[usize]| {
            dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d)).and_then(|count| count.checked_add(data_start))
        };
        let dims = read(u32::from_be_bytes);
        let total = total_of(&dims);
        if total != Some(bytes.len()) {
            let swapped = read(u32::from_le_bytes);
            if swapped != dims && total_of(&swapped) == Some(bytes.len()) {
                return Err(IdxError::ByteSwapped { dims: swapped });
            }
        }
        let Some(total) = total else {
            return Err(IdxError::Oversized { dims });
        };
        if bytes.len() < total {
            return Err(IdxError::Truncated { expected: total, found: bytes.len() });
        }
        if bytes.len() > total {
            return Err(IdxError::TrailingBytes { expected: total, found: bytes.len() });
        }
        Ok(IdxArray { dims, data: bytes[data_start..].to_vec() })
    }

    /// The IDX file of this array (type 0x08, big-endian sizes), which [`IdxArray::parse`] reads
    /// back. The format cannot hold more than 255 dimensions or sizes above `u32::MAX`: those are
    /// truncated silently, giving a header that does not fit the data.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0, 0, 0x08, self.dims.len() as u8];
        for &d in &self.dims {
            out.extend_from_slice(&(d as u32).to_be_bytes());
        }
        out.extend_from_slice(&self.data);
        out
    }

    /// This array, if it has `rank` dimensions.
    ///
    /// # Errors
    /// [`IdxError::WrongRank`] otherwise.
    pub fn expect_rank(self, rank: usize) -> Result<Self, IdxError> {
        if self.dims.len() == rank {
            Ok(self)
        } else {
            Err(IdxError::WrongRank { expected: rank, found: self.dims.len() })
        }
    }
}

/// Gray images, `count x rows x cols` bytes; each image is a sequence in raster order.
#[derive(Clone, Debug, PartialEq)]
pub struct Images {
    /// Number of images.
    pub count: usize,
    /// Rows (height) of each image.
    pub rows: usize,
    /// Columns (width) of each image.
    pub cols: usize,
    /// `count * rows * cols` gray levels, 0..=255 (MNIST: 0 background, 255 ink), image after
    /// image, each in raster order.
    pub pixels: Vec<u8>,
}

impl Images {
    /// The images of an IDX images file (`count x rows x cols`, as MNIST's `*-images-idx3-ubyte`).
    ///
    /// # Errors
    /// Those of [`IdxArray::parse`], and [`IdxError::WrongRank`] for another rank than 3.
    pub fn from_idx(bytes: &[u8]) -> Result<Self, IdxError> {
        let a = IdxArray::parse(bytes)?.expect_rank(3)?;
        Ok(Images { count: a.dims[0], rows: a.dims[1], cols: a.dims[2], pixels: a.data })
    }

    /// These images as an IDX file, which [`Images::from_idx`] reads back.
    pub fn to_idx(&self) -> Vec<u8> {
        IdxArray { dims: vec![self.count, self.rows, self.cols], data: self.pixels.clone() }.to_bytes()
    }

    /// `rows * cols`: the sequence length of an image.
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols
    }

    /// The pixels of image `i` (from 0), in raster order.
    ///
    /// # Panics
    /// When `i >= count`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.pixels_per_image();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// The first `count` images (all of them if fewer).
    pub fn take(&self, count: usize) -> Images {
        self.slice(0, count)
    }

    /// `count` images from image `start` (as many as there are).
    pub fn slice(&self, start: usize, count: usize) -> Images {
        let start = start.min(self.count);
        let count = count.min(self.count - start);
        let n = self.pixels_per_image();
        Images { count, pixels: self.pixels[start * n..(start + count) * n].to_vec(), ..*self }
    }
}

/// The labels of an IDX labels file (MNIST's `*-labels-idx1-ubyte`), one byte (the class, 0..=9
/// for MNIST) per image.
///
/// # Errors
/// Those of [`IdxArray::parse`], and [`IdxError::WrongRank`] for another rank than 1.
pub fn labels_from_idx(bytes: &[u8]) -> Result<Vec<u8>, IdxError> {
    Ok(IdxArray::parse(bytes)?.expect_rank(1)?.data)
}

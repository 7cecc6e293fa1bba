//! Named regions of an image to erase for in-painting: halves, the centre square, a random share
//! of the pixels. A region is a mask over raster positions, `true` where the pixel is erased.

use crate::rng::Rng;

/// What to erase from a `height x width` image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Region {
    /// Rows `0..height/2`: the bottom half is kept.
    TopHalf,
    /// Rows `height/2..`: the top half is kept.
    BottomHalf,
    /// Columns `0..width/2`.
    LeftHalf,
    /// Columns `width/2..`.
    RightHalf,
    /// The centred square of side `min(height, width) / 2` (14x14 on MNIST).
    Centre,
    /// Each pixel independently with this probability, in `[0, 1]`.
    RandomShare(f64),
}

impl Region {
    /// The named regions (all but [`Region::RandomShare`]).
    pub const NAMED: [Region; 5] = [Region::TopHalf, Region::BottomHalf, Region::LeftHalf, Region::RightHalf, Region::Centre];

    /// The name [`Region::from_name`] parses back: `top`, `bottom`, `left`, `right`, `centre`, or
    /// `random:P` (`P` printed so that it reads back exactly).
    pub fn name(self) -> String {
        match self {
            Region::TopHalf => "top".into(),
            Region::BottomHalf => "bottom".into(),
            Region::LeftHalf => "left".into(),
            Region::RightHalf => "right".into(),
            Region::Centre => "centre".into(),
            Region::RandomShare(p) => format!("random:{p}"),
        }
    }

    /// Parses `top`, `bottom`, `left`, `right`, `centre` or `random:P` (P in [0, 1]).
    ///
    /// # Errors
    /// [`RegionError`] for any other name.
    pub fn from_name(name: &str) -> Result<Self, RegionError> {
        if let Some(p) = name.strip_prefix("random:") {
            return match p.parse::<f64>() {
                Ok(p) if (0.0..=1.0).contains(&p) => Ok(Region::RandomShare(p)),
                _ => Err(RegionError::BadShare(p.to_string())),
            };
        }
        Region::NAMED.into_iter().find(|r| r.name() == name).ok_or_else(|| RegionError::Unknown(name.to_string()))
    }

    /// `height * width` flags in raster order, `true` where erased. `rng` is used only by
    /// [`Region::RandomShare`]. Halves of an odd side give the extra row or column to the bottom
    /// or right half; the centre square is empty when a side is below 2.
    pub fn erased(self, height: usize, width: usize, rng: &mut Rng) -> Vec<bool> {
        let side = height.min(width) / 2;
        let (top, left) = ((height - side) / 2, (width - side) / 2);
        (0..height * width)
            .map(|p| {
                let (r, c) = (p / width, p % width);
                match self {
                    Region::TopHalf => r < height / 2,
                    Region::BottomHalf => r >= height / 2,
                    Region::LeftHalf => c < width / 2,
                    Region::RightHalf => c >= width / 2,
                    Region::Centre => (top..top + side).contains(&r) && (left..left + side).contains(&c),
                    Region::RandomShare(share) => rng.uniform() < share,
                }
            })
            .collect()
    }
}

/// A region name [`Region::from_name`] does not know.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RegionError {
    /// `random:P` with `P` not a number in [0, 1].
    #[error("random:{0}: the share must be a number in [0, 1]")]
    BadShare(String),
    /// Not a region's name.
    #[error("unknown region {0:?}: use top, bottom, left, right, centre or random:P")]
    Unknown(String),
}

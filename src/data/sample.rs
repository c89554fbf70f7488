//! What one sample is: its modality and shape. Every dataset, message and model carries a
//! [`SampleShape`]; code that needs a particular modality asks for it ([`SampleShape::image`])
//! instead of assuming images. Adding a modality is one variant here and one renderer in
//! `render`.

use serde::{Deserialize, Serialize};

/// Image shape: channels, height, width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageShape {
    pub channels: usize,
    pub height: usize,
    pub width: usize,
}

impl ImageShape {
    pub fn pixels(&self) -> usize {
        self.channels * self.height * self.width
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}x{}", self.channels, self.height, self.width)
    }
}

/// Series shape: channels (variables) and time steps. Values are stored channel-major,
/// `[C, T]`, like an image's planes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeriesShape {
    pub channels: usize,
    pub steps: usize,
}

/// Spectrogram shape: frequency bands and time frames. Values are stored band-major,
/// `[bands, frames]`, so that a spectrogram reads as a series of `bands` channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpectrogramShape {
    pub bands: usize,
    pub frames: usize,
}

/// The modality and shape of one sample. Serialised untagged, so checkpoints written when
/// every sample was an image (a bare `{channels, height, width}`) still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SampleShape {
    /// `[C, H, W]`, values in [0, 1].
    Image(ImageShape),
    /// `[C, T]`, real values (typically normalised to about zero mean and unit spread).
    Series(SeriesShape),
    /// `[bands, frames]`, normalised log-mel values (`data::audio::normalise`): sound.
    Spectrogram(SpectrogramShape),
}

/// How a model's raw outputs map to sample values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRange {
    /// Values in [0, 1]: outputs go through a sigmoid; MSE and BCE both apply.
    Unit,
    /// Any real value: outputs are used as they are; only MSE applies.
    Real,
}

impl SampleShape {
    /// Values per sample.
    pub fn len(&self) -> usize {
        match self {
            SampleShape::Image(s) => s.pixels(),
            SampleShape::Series(s) => s.channels * s.steps,
            SampleShape::Spectrogram(s) => s.bands * s.frames,
        }
    }

    /// True for a shape that holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn channels(&self) -> usize {
        match self {
            SampleShape::Image(s) => s.channels,
            SampleShape::Series(s) => s.channels,
            SampleShape::Spectrogram(s) => s.bands,
        }
    }

    /// The image shape, when samples are images.
    pub fn image(&self) -> Option<ImageShape> {
        match self {
            SampleShape::Image(s) => Some(*s),
            SampleShape::Series(_) | SampleShape::Spectrogram(_) => None,
        }
    }

    /// The series shape, when samples are series; a spectrogram is a series of its bands.
    pub fn series(&self) -> Option<SeriesShape> {
        match self {
            SampleShape::Series(s) => Some(*s),
            SampleShape::Spectrogram(s) => Some(SeriesShape {
                channels: s.bands,
                steps: s.frames,
            }),
            SampleShape::Image(_) => None,
        }
    }

    /// The spectrogram shape, when samples are sound.
    pub fn spectrogram(&self) -> Option<SpectrogramShape> {
        match self {
            SampleShape::Spectrogram(s) => Some(*s),
            _ => None,
        }
    }

    pub fn value_range(&self) -> ValueRange {
        match self {
            SampleShape::Image(_) => ValueRange::Unit,
            SampleShape::Series(_) | SampleShape::Spectrogram(_) => ValueRange::Real,
        }
    }

    /// "image" or "series", for messages.
    pub fn modality(&self) -> &'static str {
        match self {
            SampleShape::Image(_) => "image",
            SampleShape::Series(_) => "series",
            SampleShape::Spectrogram(_) => "spectrogram",
        }
    }
}

impl From<ImageShape> for SampleShape {
    fn from(s: ImageShape) -> Self {
        SampleShape::Image(s)
    }
}

impl From<SeriesShape> for SampleShape {
    fn from(s: SeriesShape) -> Self {
        SampleShape::Series(s)
    }
}

impl std::fmt::Display for SampleShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SampleShape::Image(s) => write!(f, "{s}"),
            SampleShape::Series(s) => write!(f, "{}x{} series", s.channels, s.steps),
            SampleShape::Spectrogram(s) => write!(f, "{}x{} spectrogram", s.bands, s.frames),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_shapes_from_older_checkpoints_still_read() {
        let old = r#"{"channels":1,"height":28,"width":28}"#;
        let s: SampleShape = serde_json::from_str(old).unwrap();
        assert_eq!(s.image().map(|i| i.pixels()), Some(784));
        let series = SampleShape::Series(SeriesShape {
            channels: 2,
            steps: 64,
        });
        let back: SampleShape =
            serde_json::from_str(&serde_json::to_string(&series).unwrap()).unwrap();
        assert_eq!(back, series);
        assert_eq!(back.len(), 128);
        assert_eq!(back.value_range(), ValueRange::Real);
        let sound = SampleShape::Spectrogram(SpectrogramShape {
            bands: 80,
            frames: 64,
        });
        let back: SampleShape =
            serde_json::from_str(&serde_json::to_string(&sound).unwrap()).unwrap();
        assert_eq!(back, sound);
        assert_eq!(back.series().map(|s| s.channels * s.steps), Some(80 * 64));
    }
}

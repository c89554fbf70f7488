//! The built-in spoken digits: 8 text-to-speech voices saying "zero" to "nine" in 4
//! renditions each (made by `scripts/make-spoken-digits.sh`, embedded in the binary), as
//! normalised log-mel spectrograms of 80 bands × 64 frames (0.64 s). Renditions 1–3 train,
//! rendition 4 tests, so the test split holds every voice and word in a rendition the model
//! never heard. Labelled by voice (the part a voice conversion swaps); the word and the voice
//! are the data's two factors.

use super::audio::{N_MELS, fixed_spectrogram, read_wav};
use super::spoken_files::FILES;
use super::{DataSplit, Dataset, Factors, LoadError, SampleShape, SpectrogramShape};

/// Frames per sample: 0.64 s at 10 ms, as long as the longest trimmed digit.
pub const FRAMES: usize = 64;
pub const WORDS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];
/// The rendition held out for testing.
const TEST_RENDITION: u32 = 4;

/// One embedded utterance: where it is and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Utterance {
    /// Under `assets/datasets/spoken-digits/`.
    pub path: &'static str,
    pub set: &'static str,
    pub voice: &'static str,
    pub word: usize,
    pub rendition: u32,
    pub bytes: &'static [u8],
}

/// Every embedded utterance, training voices first, then the unseen ones.
pub fn utterances() -> Vec<Utterance> {
    FILES
        .iter()
        .filter_map(|&(path, bytes)| {
            let mut parts = path.split('/');
            let (set, voice, file) = (parts.next()?, parts.next()?, parts.next()?);
            let (word, rendition) = file.strip_suffix(".wav")?.split_once('-')?;
            Some(Utterance {
                path,
                set,
                voice,
                word: WORDS.iter().position(|w| *w == word)?,
                rendition: rendition.parse().ok()?,
                bytes,
            })
        })
        .collect()
}

/// The training voices, in label order.
pub fn voices() -> Vec<&'static str> {
    let mut v: Vec<&str> = Vec::new();
    for u in utterances().iter().filter(|u| u.set == "train") {
        if !v.contains(&u.voice) {
            v.push(u.voice);
        }
    }
    v
}

pub const SHAPE: SampleShape = SampleShape::Spectrogram(SpectrogramShape {
    bands: N_MELS,
    frames: FRAMES,
});

/// The spoken-digit set: renditions 1–3 of the training voices to train on, rendition 4 to
/// test.
pub fn spoken_digits() -> Result<DataSplit, LoadError> {
    let voices = voices();
    let mut train = empty(&voices);
    let mut test = empty(&voices);
    for u in utterances().into_iter().filter(|u| u.set == "train") {
        let sound = read_wav(u.bytes).map_err(|e| LoadError::Audio {
            path: format!("assets/datasets/spoken-digits/{}", u.path).into(),
            why: e.to_string(),
        })?;
        let voice = voices.iter().position(|v| *v == u.voice).unwrap_or(0) as u32;
        let split = if u.rendition == TEST_RENDITION {
            &mut test
        } else {
            &mut train
        };
        split.values.extend(fixed_spectrogram(&sound, FRAMES));
        if let Some(l) = split.labels.as_mut() {
            l.push(voice);
        }
        if let Some(f) = split.factors.as_mut() {
            f.values.extend([u.word as u32, voice]);
        }
    }
    Ok(DataSplit {
        name: "Spoken digits (8 voices)".to_string(),
        train,
        test,
        warnings: Vec::new(),
    })
}

fn empty(voices: &[&str]) -> Dataset {
    Dataset {
        shape: SHAPE,
        values: Vec::new(),
        labels: Some(Vec::new()),
        class_names: voices.iter().map(|v| v.to_string()).collect(),
        factors: Some(Factors {
            names: vec!["word".to_string(), "voice".to_string()],
            levels: vec![WORDS.len(), voices.len()],
            values: Vec::new(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_voices_ten_words_three_renditions_to_train_and_one_to_test() {
        let data = spoken_digits().unwrap();
        assert_eq!(voices().len(), 8);
        assert_eq!((data.train.len(), data.test.len()), (240, 80));
        assert_eq!(data.train.shape, SHAPE);
        let f = data.test.factors.as_ref().unwrap();
        // Every (word, voice) pair once in the test split.
        let mut pairs: Vec<&[u32]> = (0..80).map(|i| f.of(i)).collect();
        pairs.sort();
        pairs.dedup();
        assert_eq!(pairs.len(), 80);
        // Spoken frames are louder than the padding.
        let v = data.train.sample(0);
        let loudest = v.iter().cloned().fold(f32::MIN, f32::max);
        assert!(
            loudest > 0.5 && v.iter().all(|x| x.is_finite()),
            "{loudest}"
        );
        let unseen = utterances().iter().filter(|u| u.set == "unseen").count();
        assert_eq!(unseen, 20);
    }
}

//! The built-in spoken digits: 8 text-to-speech voices saying "zero" to "nine" in 4
//! renditions each (made by `scripts/make-spoken-digits.sh`, embedded in the binary), as
//! normalised log-mel spectrograms of 80 bands × 64 frames (0.64 s). Renditions 1–3 train,
//! rendition 4 tests, so the test split holds every voice and word in a rendition the model
//! never heard. Labelled by voice (the part a voice conversion swaps); the word and the voice
//! are the data's two factors.

use std::path::{Path, PathBuf};

use super::audio::{N_MELS, fixed_spectrogram, read_wav, spectrogram_chunks};
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

/// How many utterances the built-in set trains on, without decoding them.
pub fn train_len() -> usize {
    utterances()
        .iter()
        .filter(|u| u.set == "train" && u.rendition != TEST_RENDITION)
        .count()
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
        split
            .values
            .append(fixed_spectrogram(&sound, FRAMES).into());
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

/// A user's folder of recordings: one subfolder per speaker (its name is the speaker's), WAV
/// files inside (16-bit PCM or 32-bit float, any rate and channel count). Each file is cut
/// into spectrograms of [`FRAMES`] frames, labelled by speaker, and the samples are split
/// 90/10 with `seed`. Files that cannot be read (or are under 64 ms) are skipped, each named
/// with its reason in the warnings; WAV files directly in the folder count as one speaker
/// named after it.
pub fn wav_folder(dir: &Path, seed: u64) -> Result<DataSplit, LoadError> {
    let is_wav = |p: &Path| {
        p.is_file()
            && p.extension()
                .is_some_and(|e| e.to_string_lossy().eq_ignore_ascii_case("wav"))
    };
    let top = super::list_dir(dir)?;
    let mut speakers: Vec<(String, Vec<PathBuf>)> = Vec::new();
    let loose: Vec<PathBuf> = top.iter().filter(|p| is_wav(p)).cloned().collect();
    if !loose.is_empty() {
        let name = dir
            .file_name()
            .map_or("voice".into(), |n| n.to_string_lossy().into_owned());
        speakers.push((name, loose));
    }
    for sub in top.iter().filter(|p| p.is_dir()) {
        let files: Vec<PathBuf> = super::list_dir(sub)?
            .into_iter()
            .filter(|p| is_wav(p))
            .collect();
        if !files.is_empty() {
            let name = sub
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into_owned());
            speakers.push((name, files));
        }
    }
    let names: Vec<&str> = speakers.iter().map(|(n, _)| n.as_str()).collect();
    let mut data = empty(&names);
    data.factors = None;
    let mut skipped = Vec::new();
    for (label, (_, files)) in speakers.iter().enumerate() {
        for path in files {
            let chunks = match read_wav_file(path) {
                Ok(sound) => spectrogram_chunks(&sound, FRAMES).0,
                Err(why) => {
                    skipped.push(format!("{} ({why})", path.display()));
                    continue;
                }
            };
            if chunks.is_empty() {
                skipped.push(format!("{} (shorter than 64 ms)", path.display()));
            }
            for chunk in chunks {
                data.values.append(chunk.into());
                if let Some(l) = data.labels.as_mut() {
                    l.push(label as u32);
                }
            }
        }
    }
    if data.is_empty() {
        return Err(LoadError::Audio {
            path: dir.to_path_buf(),
            why: format!(
                "no readable WAV recordings in its speaker subfolders{}",
                super::skipped_in_error(&skipped)
            ),
        });
    }
    let mut split = super::split(data, seed, dir)?;
    if !skipped.is_empty() {
        split.warnings.push(super::skipped_warning(&skipped));
    }
    Ok(split)
}

/// A WAV file's sound at the model's rate, its size checked against the data limit first; the
/// error says why (the caller names the file).
pub fn read_wav_file(path: &Path) -> Result<Vec<f32>, String> {
    super::check_file_size(path).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    read_wav(&bytes).map_err(|e| e.to_string())
}

fn empty(voices: &[&str]) -> Dataset {
    Dataset {
        shape: SHAPE,
        values: Vec::<f32>::new().into(),
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

    /// A folder of speaker subfolders loads labelled by speaker (sorted by name), every file
    /// cut into spectrograms; a text file named `.wav`, an empty one and other files are
    /// skipped, the unreadable ones named in a warning; a folder with nothing readable is an
    /// error naming it.
    #[test]
    fn a_folder_of_speaker_subfolders_loads_and_names_what_it_skipped() {
        let dir = std::env::temp_dir().join(format!("ll-wavs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut written = 0;
        for u in utterances()
            .iter()
            .filter(|u| u.rendition == 1 && u.word < 3)
        {
            let voice = dir.join(u.voice);
            std::fs::create_dir_all(&voice).unwrap();
            std::fs::write(voice.join(format!("{}.WAV", WORDS[u.word])), u.bytes).unwrap();
            written += 1;
        }
        let first = dir.join("awb");
        std::fs::write(first.join("notes.wav"), "not a sound").unwrap();
        std::fs::write(first.join("empty.wav"), "").unwrap();
        std::fs::write(first.join("README.txt"), "ignored").unwrap();
        let data = wav_folder(&dir, 0).unwrap();
        assert_eq!(data.train.class_names.len(), 10);
        assert_eq!(data.train.class_names[0], "awb");
        // Each trimmed digit fits one chunk of 0.64 s.
        assert_eq!(data.train.len() + data.test.len(), written);
        assert_eq!(data.train.shape, SHAPE);
        let warning = data.warnings.join("\n");
        assert!(
            warning.contains("skipped 2 files")
                && warning.contains("notes.wav (not a RIFF/WAVE file)")
                && warning.contains("empty.wav"),
            "{warning}"
        );
        std::fs::remove_dir_all(&first).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            std::fs::remove_dir_all(entry.unwrap().path()).unwrap();
        }
        std::fs::write(dir.join("broken.wav"), "RIFF").unwrap();
        let e = wav_folder(&dir, 0).unwrap_err().to_string();
        assert!(
            e.contains("no readable WAV") && e.contains("broken.wav"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

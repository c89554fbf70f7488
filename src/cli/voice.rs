//! What a voice run leaves besides the usual: its test utterances' reconstructions and a set of
//! conversions as WAV files (through Griffin-Lim), with the manifest that
//! `../shared/bench/voice_judge.py --converted` reads.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use rayon::prelude::*;

use crate::data::audio::{
    GRIFFIN_LIM_ROUNDS, mean_spread, restore_spread, sounding_frames, speak, spectrogram_to_sound,
    voice_spreads, write_wav,
};
use crate::data::{Dataset, spoken};
use crate::files::write_atomic;
use crate::latent::swap::Swap;
use crate::protocol::Snapshot;

/// Writes `reconstructions/` (the first test utterances as the model redraws them) and
/// `conversions/` (every test utterance in two other training voices: the next one and the
/// one four on, so each voice pair of a man and a woman occurs) with `conversions.csv`.
/// Nothing for data that is not sound or a model without a speaker part.
pub fn write_voice_outputs(
    out: &Path,
    s: &Snapshot,
    train: &Dataset,
    test: &Dataset,
) -> anyhow::Result<()> {
    let (Some(shape), Some(parts)) = (s.inputs.shape.and_then(|sh| sh.spectrogram()), &s.parts)
    else {
        return Ok(());
    };
    let cloud = &s.latents;
    let Some(labels) = &cloud.labels else {
        return Ok(());
    };
    let voices = &test.class_names;
    let frames = shape.frames;
    // The built-in digits know their words; a user's recordings do not.
    let word_of = |i: usize| match &test.factors {
        Some(factors) => {
            let level = factors.of(cloud.test_indices[i])[0] as usize;
            spoken::WORDS.get(level).copied().unwrap_or("unknown")
        }
        None => "unknown",
    };
    // Test utterances are padded with silence to the model's length; each output is cut back
    // to the length of the utterance it came from, as the real recordings are trimmed.
    let length = |i: usize| sounding_frames(&test.sample(cloud.test_indices[i]), frames);
    let spreads = training_spreads(train, voices.len(), frames);
    let sound = |values: &[f32], keep: usize, voice: usize| {
        write_wav(&speak(
            values,
            frames,
            keep,
            spreads.get(voice).map(Vec::as_slice),
        ))
    };

    let dir = out.join("reconstructions");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for i in 0..s.reconstructions.len() {
        let name = format!("{i:02}-{}-{}.wav", voices[labels[i] as usize], word_of(i));
        write_atomic(
            &dir.join(name),
            &sound(s.reconstructions.sample(i), length(i), labels[i] as usize),
        )?;
    }

    let swap = Swap::Content(parts.clone());
    let n = voices.len().max(1);
    let mut jobs = Vec::new();
    let mut codes = Vec::new();
    for (i, &label) in labels.iter().enumerate() {
        let v = label as usize;
        for t in [(v + 1) % n, (v + 4) % n] {
            if t != v {
                codes.extend(swap.code(cloud.code(i), None, t));
                jobs.push((i, v, t));
            }
        }
    }
    let converted = s.decoder.decode(&codes);
    let dir = out.join("conversions");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let wavs: Vec<Vec<u8>> = (0..jobs.len())
        .into_par_iter()
        .map(|k| sound(converted.sample(k), length(jobs[k].0), jobs[k].2))
        .collect();
    let mut manifest = String::from("path,source_speaker,word,target_speaker\n");
    for ((i, v, t), wav) in jobs.iter().zip(&wavs) {
        let name = format!(
            "{i:02}-{}-{}-to-{}.wav",
            voices[*v],
            word_of(*i),
            voices[*t]
        );
        write_atomic(&dir.join(&name), wav)?;
        let _ = writeln!(
            manifest,
            "{name},{},{},{}",
            voices[*v],
            word_of(*i),
            voices[*t]
        );
    }
    write_atomic(&dir.join("conversions.csv"), manifest.as_bytes())?;
    println!(
        "wrote {} reconstructions and {} conversions as WAV (judge them with voice_judge.py --converted {})",
        s.reconstructions.len(),
        jobs.len(),
        dir.join("conversions.csv").display()
    );
    Ok(())
}

/// Each training voice's typical spread of every band over time, `[voices][N_MELS]`.
fn training_spreads(train: &Dataset, voices: usize, frames: usize) -> Vec<Vec<f32>> {
    let Some(labels) = &train.labels else {
        return Vec::new();
    };
    let samples: Vec<_> = (0..train.len()).map(|i| train.sample(i)).collect();
    let labelled: Vec<(u32, &[f32])> = labels
        .iter()
        .zip(&samples)
        .map(|(&l, s)| (l, &s[..]))
        .collect();
    voice_spreads(&labelled, voices, frames)
}

/// `latentlab convert`: one utterance in the voice of others, with a trained voice model.
#[derive(Debug, clap::Args)]
pub struct ConvertCmd {
    /// A voice run folder (from `latentlab train --model voice --out`) or its checkpoint/.
    #[arg(long)]
    pub run: std::path::PathBuf,

    /// The WAV whose words are kept (any length, rate and channel count).
    #[arg(long)]
    pub source: std::path::PathBuf,

    /// WAVs of the voice to speak in: one or more, of any speaker, heard or not in training;
    /// their speaker codes are averaged.
    #[arg(long, required = true)]
    pub voice: Vec<std::path::PathBuf>,

    /// Where to write the converted WAV (16 kHz, 16-bit).
    #[arg(long)]
    pub out: std::path::PathBuf,
}

fn read_sound(path: &Path) -> anyhow::Result<Vec<f32>> {
    spoken::read_wav_file(path).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))
}

pub fn convert(cmd: ConvertCmd, device_choice: crate::train::DeviceChoice) -> anyhow::Result<()> {
    use crate::data::audio::{join_chunks, sounds, spectrogram_chunks};
    use crate::settings::ModelKind;
    use crate::train::{checkpoint, device};

    let (dir, meta) = checkpoint::read_meta(&cmd.run)?;
    anyhow::ensure!(
        meta.config.model.kind == ModelKind::Voice,
        "{} holds a {} model; convert needs a voice model (latentlab train --model voice)",
        dir.display(),
        meta.config.model.kind.label()
    );
    let Some(shape) = meta.sample_shape.spectrogram() else {
        anyhow::bail!("{} was not trained on spectrograms", dir.display());
    };
    let frames = shape.frames;
    let (source_chunks, total) = spectrogram_chunks(&read_sound(&cmd.source)?, frames);
    let mut values: Vec<f32> = source_chunks.concat();
    // The voice is the mean speaker code of the examples' chunks that sound: a pause longer
    // than a chunk holds no voice.
    let mut voice_chunks = 0;
    for path in &cmd.voice {
        let (chunks, _) = spectrogram_chunks(&read_sound(path)?, frames);
        for chunk in chunks.iter().filter(|c| sounds(c)) {
            voice_chunks += 1;
            values.extend(chunk);
        }
    }
    anyhow::ensure!(
        voice_chunks > 0,
        "the voice examples hold no sound: nothing in them is above silence"
    );
    let samples = Dataset {
        shape: meta.sample_shape,
        values: values.into(),
        labels: None,
        class_names: Vec::new(),
        factors: None,
    };
    let device = device::select(device_choice)?;
    let cloud = checkpoint::encode_dataset(&dir, &samples, &device.device)?;
    // The voice model's code is [speaker | content]; the speaker part is `latent` wide.
    let speaker = meta.config.model.latent.min(cloud.dim);
    let mut voice = vec![0.0f32; speaker];
    for i in source_chunks.len()..cloud.len() {
        for (v, c) in voice.iter_mut().zip(&cloud.code(i)[..speaker]) {
            *v += c / voice_chunks as f32;
        }
    }
    let mut codes = Vec::new();
    for i in 0..source_chunks.len() {
        let mut code = cloud.code(i).to_vec();
        code[..speaker].copy_from_slice(&voice);
        codes.extend(code);
    }
    let decoder = checkpoint::load_decoder(&dir, &device.device)?;
    let converted = decoder.decode(&codes);
    let chunks: Vec<&[f32]> = (0..converted.len()).map(|i| converted.sample(i)).collect();
    let mut spectrogram = join_chunks(&chunks, frames, total);
    let examples = samples.samples(source_chunks.len()..samples.len());
    let examples: Vec<&[f32]> = examples.chunks(samples.shape.len()).collect();
    restore_spread(&mut spectrogram, total, &mean_spread(examples, frames));
    let sound = spectrogram_to_sound(&spectrogram, total, GRIFFIN_LIM_ROUNDS);
    write_atomic(&cmd.out, &write_wav(&sound))?;
    println!(
        "wrote {} ({:.2} s): {} in the voice of {} example{}",
        cmd.out.display(),
        sound.len() as f32 / crate::data::audio::SAMPLE_RATE as f32,
        cmd.source.display(),
        cmd.voice.len(),
        if cmd.voice.len() == 1 { "" } else { "s" }
    );
    Ok(())
}

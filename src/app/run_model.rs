//! The current run as the studio knows it: its lifecycle (which run counts, active, paused) and
//! the trainer's events folded into plain state (facts, losses, evaluations, the latest
//! snapshot, the status bar). The event handler writes it; the panels read it; the Embedding
//! Projector export is made from it.
//!
//! Plain data: no egui, no burn (tidy checks), so a test can drive it with scripted events.

use std::sync::Arc;

use crate::data::Factors;
use crate::protocol::{EvalReport, Event, RunInfo, SampleGrid, Snapshot, StepLoss};

/// What the status bar shows.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Status {
    pub device: String,
    pub epoch: u64,
    pub total_epochs: u64,
    pub step: u64,
    pub samples_per_sec: f32,
    pub elapsed_secs: f64,
    pub test_mse: Option<f32>,
    pub last_event: String,
    /// Files read of all found, while the run's data loads.
    pub loading: Option<(usize, usize)>,
    /// The run's warnings in full (the first line of each is its summary).
    pub warnings: Vec<String>,
}

use crate::protocol::HISTORY;

/// The latent codes a run's history keeps at most, in bytes.
const HISTORY_CODE_BYTES: usize = 512 << 20;

/// Something that happened during a run at a step, marked on the loss plot's time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub step: u64,
    /// What happened, in a few words ("lr 3.0e-4", "paused").
    pub label: String,
}

/// What an event changed, for the views that keep their own derived state (textures, plots).
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Nothing a view derives from (or an event of another run).
    Quiet,
    /// A run started: `info` is new.
    Started,
    /// A new snapshot arrived.
    Snapshot,
    /// The run failed; the message is its full error chain.
    Failed(String),
}

/// The run the studio shows.
#[derive(Debug)]
pub struct RunModel {
    /// The run whose events count; events tagged with another id are ignored.
    pub run_id: u64,
    /// The run's learning-rate, noise, β and speed changes, pauses and resumes, in order.
    pub marks: Vec<Mark>,
    /// Past snapshots for the timeline, oldest first, at most [`HISTORY`]: when full, every
    /// second one of the older half goes, so the whole run stays covered, denser near now.
    pub history: Vec<Arc<Snapshot>>,
    /// The history entry the views show while the timeline is scrubbed (`None`: the latest).
    pub replay: Option<usize>,
    pub active: bool,
    pub paused: bool,
    pub info: Option<RunInfo>,
    pub snapshot: Option<Arc<Snapshot>>,
    /// Every step's losses, oldest first.
    pub steps: Vec<StepLoss>,
    /// Every evaluation, oldest first.
    pub evals: Vec<EvalReport>,
    pub status: Status,
    /// The learning rate the trainer last confirmed.
    pub reported_lr: Option<f64>,
    /// What the run's data holds, once it is in memory.
    pub data_facts: Option<crate::data::DataFacts>,
}

impl Default for RunModel {
    fn default() -> Self {
        Self {
            run_id: 0,
            marks: Vec::new(),
            history: Vec::new(),
            replay: None,
            active: false,
            paused: false,
            info: None,
            snapshot: None,
            steps: Vec::new(),
            evals: Vec::new(),
            status: Status {
                last_event: "Ready: press Train.".to_string(),
                ..Status::default()
            },
            reported_lr: None,
            data_facts: None,
        }
    }
}

impl RunModel {
    /// A new run begins (to be started with the returned id): what the last one showed is
    /// cleared.
    pub fn begin(&mut self, total_epochs: u64, paused: bool) -> u64 {
        self.run_id += 1;
        self.status.total_epochs = total_epochs;
        self.clear();
        self.active = true;
        self.paused = paused;
        self.status.last_event = "Starting...".to_string();
        self.run_id
    }

    /// Forgets the current run: its later events are ignored.
    pub fn reset(&mut self) {
        self.run_id += 1;
        self.active = false;
        self.paused = false;
        self.clear();
        self.status.last_event = "Reset: the next Train starts from scratch.".to_string();
    }

    /// Clears what a run showed; the device and the epoch target stay.
    fn clear(&mut self) {
        self.info = None;
        self.data_facts = None;
        self.snapshot = None;
        self.steps.clear();
        self.evals.clear();
        self.marks.clear();
        self.history.clear();
        self.replay = None;
        self.reported_lr = None;
        self.status = Status {
            device: std::mem::take(&mut self.status.device),
            total_epochs: self.status.total_epochs,
            ..Status::default()
        };
    }

    /// Folds an event of run `run` into the state.
    pub fn apply(&mut self, run: u64, event: Event) -> Change {
        if run != self.run_id {
            return Change::Quiet;
        }
        let status = &mut self.status;
        match event {
            Event::Loading { done, total } => {
                status.loading = Some((done, total));
                status.last_event = format!("Loading data: {done} of {total} files");
            }
            Event::DataReady(facts) => {
                status.loading = None;
                self.data_facts = Some(facts);
            }
            Event::Started(info) => {
                status.loading = None;
                status.device = info.device.clone();
                status.last_event = format!("Training {} on {}", info.architecture, info.dataset);
                self.info = Some(info);
                return Change::Started;
            }
            Event::Steps(b) => {
                if let Some(last) = b.steps.last() {
                    status.step = last.step;
                    status.epoch = last.epoch;
                }
                status.samples_per_sec = b.samples_per_sec;
                status.elapsed_secs = b.elapsed_secs;
                self.reported_lr = Some(b.lr);
                self.steps.extend_from_slice(&b.steps);
            }
            Event::Eval(r) => {
                status.test_mse = Some(r.test_mse);
                self.evals.push(r);
            }
            Event::Snapshot(s) => {
                self.remember(s.clone());
                if self.replay.is_some() {
                    // The views stay on the moment the timeline shows.
                    return Change::Quiet;
                }
                self.snapshot = Some(s);
                return Change::Snapshot;
            }
            Event::Paused { step } => {
                self.mark(step, "paused".into());
                let status = &mut self.status;
                self.paused = true;
                status.step = step;
                status.last_event = format!("Paused at step {step}");
            }
            Event::Resumed { step } => {
                self.mark(step, "resumed".into());
                let status = &mut self.status;
                self.paused = false;
                status.last_event = format!("Resumed at step {step}");
            }
            Event::LearningRateChanged { step, lr } => {
                self.mark(step, format!("lr {lr:.1e}"));
                let status = &mut self.status;
                self.reported_lr = Some(lr);
                status.last_event = format!("Learning rate {lr:.1e} from step {step}");
            }
            Event::NoiseChanged { step, noise } => {
                self.mark(
                    step,
                    format!("noise {} {:.2}", noise.kind.label(), noise.level),
                );
                let status = &mut self.status;
                status.last_event = format!(
                    "Noise {} {:.2} from step {step}",
                    noise.kind.label(),
                    noise.level
                );
            }
            Event::BetaChanged { step, beta } => {
                self.mark(step, format!("β {beta:.2}"));
                let status = &mut self.status;
                status.last_event = format!("β {beta:.2} from step {step}");
            }
            Event::SpeedChanged {
                step,
                steps_per_sec,
            } => {
                self.mark(
                    step,
                    steps_per_sec.map_or("full speed".into(), |r| format!("{r:.0} steps/s")),
                );
                let status = &mut self.status;
                status.last_event = match steps_per_sec {
                    Some(r) => format!("Slow motion: at most {r:.0} steps/s from step {step}"),
                    None => format!("Full speed from step {step}"),
                };
            }
            Event::CheckpointSaved { step, .. } => {
                status.last_event = format!("Checkpoint saved at step {step}");
            }
            Event::Warning(w) => {
                let summary = w.lines().next().unwrap_or_default();
                status.last_event = format!("Warning: {summary}");
                status.warnings.push(w);
            }
            Event::Finished(end) => {
                status.loading = None;
                self.active = false;
                self.paused = false;
                status.last_event = format!(
                    "{} at step {} ({:.1} s)",
                    if end.stopped { "Stopped" } else { "Finished" },
                    end.step,
                    end.elapsed_secs
                );
            }
            Event::Failed { message, .. } => {
                status.loading = None;
                self.active = false;
                self.paused = false;
                let first_line = message.lines().next().unwrap_or_default();
                let short: String = first_line.chars().take(160).collect();
                status.last_event = format!("Failed: {short}");
                return Change::Failed(message);
            }
        }
        Change::Quiet
    }

    /// Keeps `s` in the history, thinning the older half when it is full: [`HISTORY`]
    /// moments, or fewer when their latent clouds pass [`HISTORY_CODE_BYTES`] (200 000
    /// points of 32-D codes are 25 MB a moment).
    fn remember(&mut self, s: Arc<Snapshot>) {
        let code_bytes = |h: &[Arc<Snapshot>]| -> usize {
            h.iter().map(|s| s.latents.codes.len() * 4).sum::<usize>()
        };
        let full = self.history.len() >= HISTORY
            || (self.history.len() >= 4
                && code_bytes(&self.history) + s.latents.codes.len() * 4 > HISTORY_CODE_BYTES);
        if full {
            let shown = self.replay.map(|i| self.history[i].step);
            crate::protocol::thin_history(&mut self.history);
            // A shown moment that was thinned away gives way to its neighbour.
            self.replay = shown.map(|step| {
                self.history
                    .iter()
                    .rposition(|h| h.step <= step)
                    .unwrap_or(0)
            });
        }
        self.history.push(s);
    }

    /// Shows history entry `i` in every view (`None`, or the last entry: the latest, live).
    pub fn show_moment(&mut self, i: Option<usize>) -> Change {
        let last = self.history.len().checked_sub(1);
        self.replay = i.filter(|&i| Some(i) != last && i < self.history.len());
        self.snapshot = match self.replay {
            Some(i) => Some(self.history[i].clone()),
            None => self.history.last().cloned().or(self.snapshot.take()),
        };
        Change::Snapshot
    }

    fn mark(&mut self, step: u64, label: String) {
        self.marks.push(Mark { step, label });
    }

    // --- Reads. ---

    /// The latent size of the current run, once it has started.
    pub fn latent_dim(&self) -> Option<usize> {
        self.info.as_ref().map(|i| i.latent_dim)
    }

    pub fn class_names(&self) -> &[String] {
        self.info.as_ref().map_or(&[], |i| &i.class_names)
    }

    /// The test split's known factors, when the data has them.
    pub fn test_factors(&self) -> Option<Arc<Factors>> {
        self.info.as_ref().and_then(|i| i.test_factors.clone())
    }

    /// The latent code of scatter point `i` in the latest snapshot.
    pub fn latent_code(&self, i: usize) -> Option<&[f32]> {
        let s = self.snapshot.as_ref()?;
        (i < s.latents.len()).then(|| s.latents.code(i))
    }

    /// Describes scatter point `i`: "test #12 (7)".
    pub fn describe_point(&self, i: Option<usize>) -> String {
        let (Some(i), Some(s), Some(info)) = (i, &self.snapshot, &self.info) else {
            return "none yet".to_string();
        };
        let Some(&t) = s.latents.test_indices.get(i) else {
            return "none yet".to_string();
        };
        let class = info
            .test_labels
            .as_ref()
            .and_then(|l| l.get(t))
            .and_then(|&l| info.class_names.get(l as usize))
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        format!("test #{t}{class}")
    }

    /// Writes the latest snapshot's test embeddings for the Embedding Projector into `dir`.
    pub fn export_embeddings(&self, dir: &std::path::Path) -> anyhow::Result<String> {
        let (Some(s), Some(info)) = (&self.snapshot, &self.info) else {
            anyhow::bail!("nothing to export yet: train first");
        };
        let shape = info.sample_shape;
        let mut values = Vec::with_capacity(s.latents.len() * shape.len());
        for &t in &s.latents.test_indices {
            values.extend_from_slice(info.test_samples.sample(t));
        }
        let samples = SampleGrid::new(shape, values);
        let labels: Option<Vec<u32>> = info
            .test_labels
            .as_ref()
            .map(|l| s.latents.test_indices.iter().map(|&t| l[t]).collect());
        let summary = crate::latent::export::write_projector(
            dir,
            &crate::latent::export::Embedding {
                codes: &s.latents.codes,
                dim: s.latents.dim,
                labels: labels.as_deref(),
                class_names: &info.class_names,
                samples: &samples,
            },
        )?;
        let mut msg = format!(
            "Exported {} points to {} (load them at projector.tensorflow.org)",
            summary.points,
            dir.display()
        );
        for w in summary.warnings {
            msg.push_str(&format!("; {w}"));
        }
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ImageShape, Noise, SampleShape};
    use crate::protocol::{LatentCloud, LatentDecoder, RunEnd, SampleGrid, StepBatch};
    use crate::settings::ModelConfig;

    const SHAPE: ImageShape = ImageShape {
        channels: 1,
        height: 2,
        width: 2,
    };

    /// Decodes every code to a grey image.
    struct Grey;

    impl LatentDecoder for Grey {
        fn latent_dim(&self) -> usize {
            2
        }
        fn sample_shape(&self) -> SampleShape {
            SHAPE.into()
        }
        fn decode(&self, codes: &[f32]) -> SampleGrid {
            SampleGrid::new(SHAPE, vec![0.5; codes.len() / 2 * SHAPE.pixels()])
        }
    }

    fn info() -> RunInfo {
        RunInfo {
            device: "CPU (test)".into(),
            dataset: "four squares".into(),
            architecture: "dense 1x2x2, latent 2".into(),
            model: ModelConfig::default(),
            sample_shape: SHAPE.into(),
            latent_dim: 2,
            term_names: vec!["reconstruction".into()],
            class_names: vec!["dark".into(), "light".into()],
            steps_per_epoch: 2,
            start_step: 0,
            total_steps: 4,
            train_len: 4,
            test_len: 2,
            test_samples: Arc::new(SampleGrid::new(
                SHAPE,
                vec![0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0],
            )),
            test_labels: Some(Arc::new(vec![0, 1])),
            test_factors: None,
        }
    }

    fn step(step: u64, loss: f32) -> StepLoss {
        StepLoss {
            step,
            epoch: step.div_ceil(2),
            loss,
            terms: [loss, 0.0, 0.0, 0.0],
        }
    }

    fn snapshot(step: u64) -> Arc<Snapshot> {
        let images = SampleGrid::new(SHAPE, vec![0.0; 4]);
        Arc::new(Snapshot {
            step,
            epoch: 1,
            example_indices: vec![0],
            example_labels: Some(vec![0]),
            inputs: images.clone(),
            noisy: images.clone(),
            reconstructions: images,
            latents: LatentCloud::new(
                2,
                vec![0.0, 1.0, 2.0, 3.0],
                Some(vec![0, 1]),
                vec![0, 1],
                None,
            ),
            decoder: Arc::new(Grey),
            parts: None,
            encode_secs: 0.0,
        })
    }

    #[test]
    fn the_timeline_keeps_a_thinned_history_and_shows_any_moment() {
        let mut m = RunModel::default();
        let id = m.begin(1, false);
        m.apply(id, Event::Started(info()));
        for step in 1..=200 {
            m.apply(id, Event::Snapshot(snapshot(step)));
        }
        let steps: Vec<u64> = m.history.iter().map(|s| s.step).collect();
        assert!(steps.len() <= HISTORY, "{}", steps.len());
        assert_eq!(
            (steps[0], *steps.last().unwrap()),
            (1, 200),
            "the whole run"
        );
        assert!(steps.windows(2).all(|w| w[0] < w[1]));
        // Denser near now: the last gaps are smaller than the first.
        assert!(steps[1] - steps[0] > steps[steps.len() - 1] - steps[steps.len() - 2]);

        // Scrubbing back: every view's snapshot is that moment, and new ones do not move it.
        assert_eq!(m.show_moment(Some(3)), Change::Snapshot);
        let past = steps[3];
        assert_eq!(m.snapshot.as_ref().map(|s| s.step), Some(past));
        assert_eq!(m.apply(id, Event::Snapshot(snapshot(201))), Change::Quiet);
        assert_eq!(m.snapshot.as_ref().map(|s| s.step), Some(past));
        // Back to live: the latest.
        m.show_moment(None);
        assert_eq!(m.snapshot.as_ref().map(|s| s.step), Some(201));
        assert_eq!(
            m.apply(id, Event::Snapshot(snapshot(202))),
            Change::Snapshot
        );
    }

    #[test]
    fn changes_pauses_and_resumes_are_marked_at_their_steps() {
        let mut m = RunModel::default();
        let id = m.begin(1, false);
        m.apply(id, Event::Started(info()));
        m.apply(id, Event::LearningRateChanged { step: 5, lr: 3e-4 });
        m.apply(id, Event::Paused { step: 9 });
        m.apply(id, Event::Resumed { step: 9 });
        m.apply(
            id,
            Event::SpeedChanged {
                step: 12,
                steps_per_sec: Some(2.0),
            },
        );
        let marks: Vec<(u64, &str)> = m.marks.iter().map(|k| (k.step, k.label.as_str())).collect();
        assert_eq!(
            marks,
            [
                (5, "lr 3.0e-4"),
                (9, "paused"),
                (9, "resumed"),
                (12, "2 steps/s")
            ]
        );
        assert!(m.status.last_event.starts_with("Slow motion"));
        // A new run starts without them.
        m.begin(1, false);
        assert!(m.marks.is_empty());
    }

    #[test]
    fn loading_shows_progress_until_the_run_starts_and_warnings_are_kept_whole() {
        let mut m = RunModel::default();
        let id = m.begin(1, false);
        m.apply(
            id,
            Event::Loading {
                done: 64,
                total: 200,
            },
        );
        assert_eq!(m.status.loading, Some((64, 200)));
        m.apply(
            id,
            Event::Warning("skipped 2 files:\na.png: empty\nb.png: text".into()),
        );
        assert_eq!(m.status.last_event, "Warning: skipped 2 files:");
        assert_eq!(m.status.warnings.len(), 1);
        assert!(m.status.warnings[0].ends_with("b.png: text"));
        m.apply(id, Event::Started(info()));
        assert_eq!(m.status.loading, None);
    }

    #[test]
    fn a_scripted_run_folds_into_the_expected_state() {
        let mut m = RunModel::default();
        let id = m.begin(2, false);
        assert!(m.active && !m.paused);
        assert_eq!(m.apply(id, Event::Started(info())), Change::Started);
        assert_eq!(m.status.device, "CPU (test)");
        assert_eq!(m.latent_dim(), Some(2));
        assert_eq!(m.apply(id, Event::Snapshot(snapshot(0))), Change::Snapshot);
        let batch = |steps: Vec<StepLoss>| {
            Event::Steps(StepBatch {
                steps,
                samples_per_sec: 1000.0,
                lr: 1e-3,
                elapsed_secs: 0.5,
            })
        };
        assert_eq!(
            m.apply(id, batch(vec![step(1, 0.7), step(2, 0.6)])),
            Change::Quiet
        );
        assert_eq!(m.apply(id, Event::Paused { step: 2 }), Change::Quiet);
        assert!(m.paused);
        assert_eq!(m.status.last_event, "Paused at step 2");
        m.apply(id, Event::Resumed { step: 2 });
        m.apply(id, Event::LearningRateChanged { step: 2, lr: 3e-4 });
        assert_eq!(m.reported_lr, Some(3e-4));
        m.apply(
            id,
            Event::NoiseChanged {
                step: 2,
                noise: Noise::REFERENCE,
            },
        );
        m.apply(id, batch(vec![step(3, 0.5), step(4, 0.4)]));
        m.apply(
            id,
            Event::Eval(EvalReport {
                step: 4,
                epoch: 2,
                test_mse: 0.05,
                terms: vec![0.4],
                input_mse: None,
                elapsed_secs: 1.0,
                train_secs: 0.9,
            }),
        );
        m.apply(id, Event::Snapshot(snapshot(4)));
        // An event of an earlier run changes nothing.
        assert_eq!(m.apply(id - 1, batch(vec![step(99, 9.0)])), Change::Quiet);
        assert_eq!(
            m.apply(
                id,
                Event::Finished(RunEnd {
                    step: 4,
                    epoch: 2,
                    elapsed_secs: 1.0,
                    test_mse: Some(0.05),
                    stopped: false,
                })
            ),
            Change::Quiet
        );

        let losses: Vec<(u64, f32)> = m.steps.iter().map(|s| (s.step, s.loss)).collect();
        assert_eq!(losses, [(1, 0.7), (2, 0.6), (3, 0.5), (4, 0.4)]);
        assert_eq!(m.evals.len(), 1);
        assert_eq!(
            m.status,
            Status {
                device: "CPU (test)".into(),
                epoch: 2,
                total_epochs: 2,
                step: 4,
                samples_per_sec: 1000.0,
                elapsed_secs: 0.5,
                test_mse: Some(0.05),
                last_event: "Finished at step 4 (1.0 s)".into(),
                loading: None,
                warnings: Vec::new(),
            }
        );
        assert!(!m.active && !m.paused);
        assert_eq!(m.snapshot.as_ref().map(|s| s.step), Some(4));
        assert_eq!(m.latent_code(1), Some(&[2.0, 3.0][..]));
        assert_eq!(m.describe_point(Some(1)), "test #1 (light)");
        assert_eq!(m.describe_point(Some(7)), "none yet");
    }

    #[test]
    fn a_failure_keeps_the_message_and_a_new_run_starts_clean() {
        let mut m = RunModel::default();
        let id = m.begin(5, true);
        assert!(m.paused);
        m.apply(id, Event::Started(info()));
        let message = "training diverged at step 3\nTry a lower learning rate.".to_string();
        let change = m.apply(
            id,
            Event::Failed {
                step: 3,
                message: message.clone(),
            },
        );
        assert_eq!(change, Change::Failed(message));
        assert_eq!(m.status.last_event, "Failed: training diverged at step 3");
        assert!(!m.active);
        let next = m.begin(5, false);
        assert_ne!(next, id);
        assert!(m.info.is_none() && m.steps.is_empty());
        assert_eq!(m.status.device, "CPU (test)", "the device stays known");
        // The failed run's late events are ignored.
        assert_eq!(m.apply(id, Event::Started(info())), Change::Quiet);
        assert!(m.info.is_none());
        m.reset();
        assert!(!m.active);
        assert_eq!(m.apply(next, Event::Started(info())), Change::Quiet);
    }
}

//! The run's timing, apart from the training itself: its clock (active time, pauses), the
//! throughput window, and the cadence that decides when the loop flushes step losses, evaluates,
//! sends a snapshot and autosaves.
//!
//! The cadence decides by step count and time, whatever the epoch length: a data set of one
//! batch per epoch does not evaluate, snapshot and fsync a checkpoint every step. Everything here
//! is told the time (`now`), so tests drive it with a made-up clock. Never imports burn or egui.

use std::time::{Duration, Instant};

use crate::protocol::StepLoss;

/// Step losses are sent at most this often (and before each evaluation, and on pause).
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(100);
/// Epoch-end checkpoints are written at most this often (fsync is slow, and tiny epochs are
/// fast).
pub const AUTOSAVE_MIN_INTERVAL: Duration = Duration::from_secs(30);
/// A checkpoint is written at least this often while training, even inside a long epoch.
pub const AUTOSAVE_MAX_INTERVAL: Duration = Duration::from_secs(600);

/// Active training time: wall time since the start, less pauses, plus the time of earlier
/// processes when the run was resumed from a checkpoint.
#[derive(Debug, Clone)]
pub struct Clock {
    before_secs: f64,
    started: Instant,
    paused_total: Duration,
    paused_since: Option<Instant>,
}

impl Clock {
    /// A clock running from `now`, with `before_secs` of earlier active time.
    pub fn new(before_secs: f64, now: Instant) -> Self {
        Self {
            before_secs,
            started: now,
            paused_total: Duration::ZERO,
            paused_since: None,
        }
    }

    /// Stops counting; false when it was already paused.
    pub fn pause(&mut self, now: Instant) -> bool {
        if self.paused_since.is_some() {
            return false;
        }
        self.paused_since = Some(now);
        true
    }

    /// Counts again; false when it was not paused.
    pub fn resume(&mut self, now: Instant) -> bool {
        match self.paused_since.take() {
            Some(p) => {
                self.paused_total += now.saturating_duration_since(p);
                true
            }
            None => false,
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused_since.is_some()
    }

    /// Active seconds at `now`.
    pub fn elapsed_secs(&self, now: Instant) -> f64 {
        let paused_now = self
            .paused_since
            .map(|p| now.saturating_duration_since(p))
            .unwrap_or_default();
        let wall = now.saturating_duration_since(self.started);
        self.before_secs
            + wall
                .saturating_sub(self.paused_total + paused_now)
                .as_secs_f64()
    }
}

/// Step losses waiting to be sent, and the training throughput over the steps since the last
/// send (time inside training steps only).
#[derive(Debug, Default)]
pub struct Throughput {
    pending: Vec<StepLoss>,
    samples: usize,
    train_secs: f64,
    samples_per_sec: f32,
}

impl Throughput {
    /// Records one step of `samples` that took `secs`.
    pub fn record(&mut self, step: StepLoss, samples: usize, secs: f64) {
        self.pending.push(step);
        self.samples += samples;
        self.train_secs += secs;
    }

    /// The pending steps (possibly none) and the samples/s of the window, which starts anew.
    /// The rate carries over when the window trained nothing.
    pub fn take(&mut self) -> (Vec<StepLoss>, f32) {
        if self.train_secs > 0.0 {
            self.samples_per_sec = (self.samples as f64 / self.train_secs) as f32;
        }
        self.samples = 0;
        self.train_secs = 0.0;
        (std::mem::take(&mut self.pending), self.samples_per_sec)
    }
}

/// What the loop should do after a step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Due {
    pub flush: bool,
    pub eval: bool,
    pub snapshot: bool,
    pub autosave: bool,
}

/// When the periodic work happens.
#[derive(Debug, Clone)]
pub struct Cadence {
    eval_every: u64,
    steps_per_epoch: u64,
    /// `None`: snapshots only at evaluations.
    snapshot_every: Option<Duration>,
    started: Instant,
    last_flush: Instant,
    last_eval_step: Option<u64>,
    last_snapshot: Option<(Instant, u64)>,
    /// What the last snapshot took to make: a large latent cloud stretches the interval, so
    /// snapshots never take more than a fifth of the run's time.
    snapshot_cost: Duration,
    last_autosave: Option<(Instant, u64)>,
}

/// Training time per unit of snapshot time, at least.
const SNAPSHOT_COST_RATIO: u32 = 4;

impl Cadence {
    /// Evaluations every `eval_every` steps (and at the end of each epoch at least that long);
    /// snapshots at most every `snapshot_interval_secs` (0: at each evaluation).
    pub fn new(
        eval_every: u64,
        steps_per_epoch: u64,
        snapshot_interval_secs: f64,
        now: Instant,
    ) -> Self {
        Self {
            eval_every: eval_every.max(1),
            steps_per_epoch: steps_per_epoch.max(1),
            snapshot_every: (snapshot_interval_secs > 0.0)
                .then(|| Duration::from_secs_f64(snapshot_interval_secs)),
            started: now,
            last_flush: now,
            last_eval_step: None,
            last_snapshot: None,
            snapshot_cost: Duration::ZERO,
            last_autosave: None,
        }
    }

    /// What is due once step `step` (1-based, global) has been taken at `now`.
    pub fn after_step(&self, step: u64, now: Instant) -> Due {
        let epoch_end = step.is_multiple_of(self.steps_per_epoch);
        // An epoch end is a natural point to measure, but only when epochs are long: with short
        // ones the step count alone decides.
        let eval = step.is_multiple_of(self.eval_every)
            || (epoch_end && self.steps_per_epoch >= self.eval_every);
        let snapshot = match self.snapshot_every {
            None => eval,
            Some(every) => {
                let every = every.max(self.snapshot_cost * (SNAPSHOT_COST_RATIO + 1));
                self.last_snapshot
                    .is_none_or(|(at, _)| now.saturating_duration_since(at) >= every)
            }
        };
        let autosave = match self.last_autosave {
            None => {
                epoch_end || now.saturating_duration_since(self.started) >= AUTOSAVE_MAX_INTERVAL
            }
            Some((at, _)) => {
                let since = now.saturating_duration_since(at);
                (epoch_end && since >= AUTOSAVE_MIN_INTERVAL) || since >= AUTOSAVE_MAX_INTERVAL
            }
        };
        Due {
            flush: eval || now.saturating_duration_since(self.last_flush) >= FLUSH_INTERVAL,
            eval,
            snapshot,
            autosave,
        }
    }

    /// What is left to do when the run ends at `step`: whatever does not yet show that step.
    pub fn at_end(&self, step: u64) -> Due {
        Due {
            flush: true,
            eval: self.last_eval_step != Some(step),
            snapshot: self.last_snapshot.is_none_or(|(_, s)| s != step),
            autosave: self.last_autosave.is_none_or(|(_, s)| s != step),
        }
    }

    pub fn flushed(&mut self, now: Instant) {
        self.last_flush = now;
    }

    pub fn evaluated(&mut self, step: u64) {
        self.last_eval_step = Some(step);
    }

    pub fn snapshot_sent(&mut self, step: u64, now: Instant) {
        self.last_snapshot = Some((now, step));
    }

    /// Records what the last snapshot took to make.
    pub fn snapshot_took(&mut self, cost: Duration) {
        self.snapshot_cost = cost;
    }

    pub fn autosaved(&mut self, step: u64, now: Instant) {
        self.last_autosave = Some((now, step));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    /// Drives a cadence through `steps` steps taking `step_ms` each, doing what it says is due;
    /// returns the steps at which each kind of work happened.
    fn drive(c: &mut Cadence, t0: Instant, steps: u64, step_ms: u64) -> [Vec<u64>; 3] {
        let (mut evals, mut snaps, mut saves) = (vec![], vec![], vec![]);
        for step in 1..=steps {
            let now = ms(t0, step * step_ms);
            let due = c.after_step(step, now);
            if due.flush {
                c.flushed(now);
            }
            if due.eval {
                c.evaluated(step);
                evals.push(step);
            }
            if due.snapshot {
                c.snapshot_sent(step, now);
                snaps.push(step);
            }
            if due.autosave {
                c.autosaved(step, now);
                saves.push(step);
            }
        }
        [evals, snaps, saves]
    }

    #[test]
    fn one_step_epochs_snapshot_at_the_interval_not_every_step() {
        let t0 = Instant::now();
        // 1 step per epoch, 10 ms per step, snapshots every 250 ms, evaluations every 50 steps.
        let mut c = Cadence::new(50, 1, 0.25, t0);
        c.snapshot_sent(0, t0);
        let [evals, snaps, saves] = drive(&mut c, t0, 200, 10);
        assert_eq!(snaps, vec![25, 50, 75, 100, 125, 150, 175, 200]);
        assert_eq!(evals, vec![50, 100, 150, 200]);
        // The first epoch end saves; the next ones wait for the minimum interval (30 s).
        assert_eq!(saves, vec![1]);
        let later = ms(t0, 10 + 30_000);
        assert!(c.after_step(3001, later).autosave);
        assert!(!c.after_step(3001, ms(t0, 10_000)).autosave);
    }

    /// A snapshot that takes long to make (a large latent cloud) spaces the next ones out, so
    /// they never take more than a fifth of the time; a cheap one does not.
    #[test]
    fn costly_snapshots_stretch_the_interval() {
        let t0 = Instant::now();
        let mut c = Cadence::new(1000, 1000, 0.25, t0);
        c.snapshot_sent(0, t0);
        c.snapshot_took(Duration::from_millis(10));
        assert!(c.after_step(30, ms(t0, 300)).snapshot);
        c.snapshot_took(Duration::from_millis(400));
        assert!(!c.after_step(30, ms(t0, 300)).snapshot);
        assert!(!c.after_step(190, ms(t0, 1900)).snapshot);
        assert!(c.after_step(200, ms(t0, 2000)).snapshot);
    }

    #[test]
    fn long_epochs_evaluate_at_each_end_and_every_n_steps() {
        let t0 = Instant::now();
        // 70 steps per epoch (MNIST subset, batch 128), evaluations every 50 steps.
        let mut c = Cadence::new(50, 70, 0.0, t0);
        let [evals, snaps, saves] = drive(&mut c, t0, 210, 100);
        assert_eq!(evals, vec![50, 70, 100, 140, 150, 200, 210]);
        assert_eq!(snaps, evals, "no interval: a snapshot at each evaluation");
        assert_eq!(saves, vec![70], "then at most every 30 s");
        // Short epochs (5 steps) with evaluations every 10 steps: the step count decides.
        let mut c = Cadence::new(10, 5, 0.0, t0);
        let [evals, ..] = drive(&mut c, t0, 30, 100);
        assert_eq!(evals, vec![10, 20, 30]);
    }

    #[test]
    fn a_long_epoch_still_autosaves_and_the_end_does_what_is_missing() {
        let t0 = Instant::now();
        let mut c = Cadence::new(50, 1_000_000, 0.0, t0);
        assert!(!c.after_step(10, ms(t0, 1000)).autosave, "no epoch end yet");
        assert!(
            c.after_step(10, ms(t0, 601_000)).autosave,
            "ten minutes passed"
        );
        c.evaluated(50);
        c.snapshot_sent(50, ms(t0, 5000));
        c.autosaved(40, ms(t0, 5000));
        let end = c.at_end(50);
        assert_eq!(
            end,
            Due {
                flush: true,
                eval: false,
                snapshot: false,
                autosave: true
            }
        );
        assert!(c.at_end(51).eval && c.at_end(51).snapshot);
    }

    #[test]
    fn flushes_every_100_ms_and_before_evaluations() {
        let t0 = Instant::now();
        let c = Cadence::new(50, 1000, 1.0, t0);
        assert!(!c.after_step(1, ms(t0, 50)).flush);
        assert!(c.after_step(2, ms(t0, 100)).flush);
        assert!(
            c.after_step(50, ms(t0, 10)).flush,
            "an evaluation flushes first"
        );
    }

    #[test]
    fn the_clock_counts_active_time_only() {
        let t0 = Instant::now();
        let mut clock = Clock::new(5.0, t0);
        assert!((clock.elapsed_secs(ms(t0, 1000)) - 6.0).abs() < 1e-9);
        assert!(clock.pause(ms(t0, 1000)));
        assert!(!clock.pause(ms(t0, 1500)), "already paused");
        assert!((clock.elapsed_secs(ms(t0, 3000)) - 6.0).abs() < 1e-9);
        assert!(clock.resume(ms(t0, 3000)));
        assert!(!clock.resume(ms(t0, 3000)));
        assert!((clock.elapsed_secs(ms(t0, 4000)) - 7.0).abs() < 1e-9);
    }

    #[test]
    fn throughput_is_samples_over_training_time_and_carries_over_an_idle_window() {
        let mut t = Throughput::default();
        let step = |s| StepLoss {
            step: s,
            epoch: 1,
            loss: 0.5,
            terms: [0.0; 4],
        };
        t.record(step(1), 128, 0.01);
        t.record(step(2), 128, 0.03);
        let (steps, rate) = t.take();
        assert_eq!(steps.len(), 2);
        assert!((rate - 6400.0).abs() < 1e-2, "{rate}");
        let (steps, rate) = t.take();
        assert!(steps.is_empty());
        assert!((rate - 6400.0).abs() < 1e-2, "kept while nothing trained");
    }
}

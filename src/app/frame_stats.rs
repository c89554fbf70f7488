//! Frame-time readout: how long the studio spends building each frame, and how long a slider
//! decode takes, as percentiles over a sliding window.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

const WINDOW: usize = 2000;

/// A sliding window of durations in milliseconds.
#[derive(Debug, Default)]
pub struct Samples(VecDeque<f32>);

impl Samples {
    pub fn push(&mut self, d: Duration) {
        if self.0.len() == WINDOW {
            self.0.pop_front();
        }
        self.0.push_back(d.as_secs_f32() * 1000.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `q`-quantile (0..=1) in milliseconds, or `None` with no samples.
    pub fn percentile(&self, q: f32) -> Option<f32> {
        if self.0.is_empty() {
            return None;
        }
        let mut v: Vec<f32> = self.0.iter().copied().collect();
        v.sort_by(f32::total_cmp);
        let i = ((v.len() - 1) as f32 * q).round() as usize;
        Some(v[i])
    }

    pub fn summary(&self) -> String {
        match (
            self.percentile(0.5),
            self.percentile(0.95),
            self.percentile(0.99),
        ) {
            (Some(a), Some(b), Some(c)) => {
                format!(
                    "p50 {a:.2} ms, p95 {b:.2} ms, p99 {c:.2} ms (n={})",
                    self.len()
                )
            }
            _ => "no samples".to_string(),
        }
    }
}

/// Frame build times, frame intervals and decode times.
#[derive(Debug)]
pub struct FrameStats {
    /// Time from the start of `logic` to the end of `ui`: the studio's own work per frame.
    pub build: Samples,
    /// Time between the starts of consecutive frames (includes rendering and waiting).
    pub interval: Samples,
    /// One slider decode (CPU decoder, batch 1).
    pub decode: Samples,
    frame_start: Option<Instant>,
    last_start: Option<Instant>,
    /// Log to stderr every few seconds (`--frame-stats`).
    log: bool,
    last_log: Instant,
}

impl FrameStats {
    pub fn new(log: bool) -> Self {
        Self {
            build: Samples::default(),
            interval: Samples::default(),
            decode: Samples::default(),
            frame_start: None,
            last_start: None,
            log,
            last_log: Instant::now(),
        }
    }

    pub fn begin_frame(&mut self) {
        let now = Instant::now();
        if let Some(last) = self.last_start {
            // Idle gaps (nothing to repaint) are not frames anyone waited for.
            let gap = now - last;
            if gap < Duration::from_millis(250) {
                self.interval.push(gap);
            }
        }
        self.last_start = Some(now);
        self.frame_start = Some(now);
    }

    /// Ends the frame; the log (every 5 s) adds `context`, what the frame times depend on.
    pub fn end_frame(&mut self, context: impl FnOnce() -> String) {
        if let Some(start) = self.frame_start.take() {
            self.build.push(start.elapsed());
        }
        if self.log && self.last_log.elapsed() >= Duration::from_secs(5) {
            self.last_log = Instant::now();
            eprintln!("{}\n{}", self.report(), context());
        }
    }

    pub fn report(&self) -> String {
        format!(
            "frame build: {}\nframe interval: {}\nslider decode: {}",
            self.build.summary(),
            self.interval.summary(),
            self.decode.summary()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_window() {
        let mut s = Samples::default();
        for ms in 1..=100 {
            s.push(Duration::from_millis(ms));
        }
        assert_eq!(s.percentile(0.0), Some(1.0));
        assert!((s.percentile(0.95).unwrap() - 95.0).abs() < 1.01);
        assert_eq!(s.percentile(1.0), Some(100.0));
        assert!(Samples::default().percentile(0.5).is_none());
    }
}

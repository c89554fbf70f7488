//! The timeline: a scrubber over the run's kept snapshots; every view shows the moment it
//! picks, Play replays the run, Back to live follows it again.

use std::time::{Duration, Instant};

use super::StudioApp;

/// How long each moment shows while the timeline replays.
const REPLAY_MS: u64 = 250;

impl StudioApp {
    /// The timeline: a scrubber over the run's kept snapshots (every view shows the moment it
    /// picks), Play to replay them, Back to live to follow the run again.
    pub(super) fn timeline_ui(&mut self, ctx: &egui::Context, ui: &mut egui::Ui) {
        let last = self.run.history.len() - 1;
        // The replay moves on first, so that what is drawn below is the moment shown.
        if let Some(since) = self.replaying {
            if since.elapsed() >= Duration::from_millis(REPLAY_MS) {
                let next = (self.run.replay.unwrap_or(last) + 1).min(last);
                self.replaying = (next < last).then(Instant::now);
                self.show_moment(ctx, next);
            }
            ctx.request_repaint_after(Duration::from_millis(REPLAY_MS));
        }
        let shown = self.run.replay.unwrap_or(last);
        let mut at = shown;
        ui.horizontal(|ui| {
            ui.label("Timeline").on_hover_text(
                "Drag to any earlier moment of the run: the reconstructions, the latent views and \
                 the sliders show the model as it was then. Older moments are kept more sparsely.",
            );
            let playing = self.replaying.is_some();
            if ui
                .button(if playing { "Stop replay" } else { "Play" })
                .on_hover_text("Replay the run from its start, a few moments a second")
                .clicked()
            {
                self.replaying = if playing { None } else { Some(Instant::now()) };
                if !playing {
                    at = 0;
                }
            }
            if ui
                .add_enabled(self.run.replay.is_some(), egui::Button::new("Back to live"))
                .on_hover_text("Follow the run as it trains")
                .on_disabled_hover_text("The views already show the latest moment")
                .clicked()
            {
                self.replaying = None;
                at = last;
            }
            let step = self.run.history[shown].step;
            ui.spacing_mut().slider_width = (ui.available_width() - 120.0).max(100.0);
            ui.add(
                egui::Slider::new(&mut at, 0..=last)
                    .show_value(false)
                    .text(format!("step {step}")),
            )
            .on_hover_text("Drag to a moment of the run: every view shows the model as it was");
        });
        if at != shown {
            self.show_moment(ctx, at);
        }
    }

    /// Every view shows history entry `i` (the last one: live).
    pub(super) fn show_moment(&mut self, ctx: &egui::Context, i: usize) {
        let change = self.run.show_moment(Some(i));
        self.follow(ctx, change);
    }
}

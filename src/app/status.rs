//! The status bar: device, progress, speed, time, and the last thing that happened (the run
//! model's [`Status`]).

use super::run_model::Status;

/// What the status bar was asked to do.
#[derive(Debug, Default)]
pub struct StatusActions {
    /// Cancel the data load in progress.
    pub cancel_loading: bool,
    /// Show the run's warnings in full.
    pub show_warnings: bool,
}

pub fn status_ui(ui: &mut egui::Ui, s: &Status, extra: Option<&str>) -> StatusActions {
    let mut actions = StatusActions::default();
    ui.horizontal(|ui| {
        if let Some((done, total)) = s.loading {
            ui.add(
                egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                    .desired_width(160.0)
                    .text(format!("loading {done}/{total}")),
            );
            actions.cancel_loading = ui
                .button("Cancel")
                .on_hover_text("Stop reading the data; nothing starts")
                .clicked();
            ui.separator();
        }
        if !s.warnings.is_empty() {
            actions.show_warnings = ui
                .button(format!(
                    "{} warning{}",
                    s.warnings.len(),
                    if s.warnings.len() == 1 { "" } else { "s" }
                ))
                .on_hover_text("What was skipped or repaired while loading and training")
                .clicked();
            ui.separator();
        }
        let device = if s.device.is_empty() {
            "device: chosen at the first run"
        } else {
            &s.device
        };
        ui.strong(device);
        ui.separator();
        ui.label(format!("epoch {}/{}", s.epoch, s.total_epochs));
        ui.separator();
        ui.label(format!("step {}", s.step));
        ui.separator();
        ui.label(format!("{:.0} samples/s", s.samples_per_sec));
        ui.separator();
        let secs = s.elapsed_secs.max(0.0) as u64;
        ui.label(format!("{}:{:02}", secs / 60, secs % 60));
        if let Some(mse) = s.test_mse {
            ui.separator();
            ui.label(format!("test MSE {mse:.4}"));
        }
        // One line whatever the window's width: the frame-time readout and the last event
        // take what is left, cut with an ellipsis (the whole text on hover).
        if let Some(extra) = extra {
            ui.separator();
            ui.add(egui::Label::new(egui::RichText::new(extra).monospace()).truncate())
                .on_hover_text(extra);
        }
        ui.separator();
        ui.add(egui::Label::new(&s.last_event).truncate())
            .on_hover_text(&s.last_event);
    });
    actions
}

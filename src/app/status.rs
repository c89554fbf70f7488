//! The status bar: device, progress, speed, time, and the last thing that happened (the run
//! model's [`Status`]).

use super::run_model::Status;

pub fn status_ui(ui: &mut egui::Ui, s: &Status, extra: Option<&str>) {
    ui.horizontal_wrapped(|ui| {
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
        ui.separator();
        ui.label(&s.last_event);
        if let Some(extra) = extra {
            ui.separator();
            ui.monospace(extra);
        }
    });
}

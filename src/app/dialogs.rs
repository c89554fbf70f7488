//! The studio's two dialogs: the question before a change that needs a new model, and the
//! dismissible notice that shows an error's full chain.

/// Asks whether to restart with a new model: `Some(true)` to restart, `Some(false)` to keep
/// the current one, `None` while undecided.
pub fn confirm_restart_ui(ctx: &egui::Context) -> Option<bool> {
    let modal = egui::Modal::new(egui::Id::NULL.with("confirm_restart")).show(ctx, |ui| {
        ui.heading("Start a new model?");
        ui.label(
            "This change needs a new model: the current run stops and training restarts from scratch.",
        );
        ui.horizontal(|ui| {
            if ui.button("Restart").clicked() {
                Some(true)
            } else if ui.button("Keep current model").clicked() {
                Some(false)
            } else {
                None
            }
        })
        .inner
    });
    modal.inner
}

/// Shows `notice` until the user dismisses it (which clears it), with a button for `action`
/// when given; returns true when that was clicked (which clears the notice too).
pub fn notice_ui(ctx: &egui::Context, notice: &mut Option<String>, action: Option<&str>) -> bool {
    let Some(message) = notice.clone() else {
        return false;
    };
    let mut open = true;
    let mut dismissed = false;
    let mut acted = false;
    egui::Window::new("Something went wrong")
        .collapsible(false)
        .resizable(true)
        .default_width(520.0)
        .anchor(egui::Align2::CENTER_TOP, [0.0, 60.0])
        .open(&mut open)
        .show(ctx, |ui| {
            ui.label(egui::RichText::new(&message).color(ui.visuals().warn_fg_color));
            ui.horizontal(|ui| {
                if let Some(action) = action {
                    acted = ui.button(action).clicked();
                }
                dismissed = ui.button("Dismiss").clicked();
            });
        });
    if dismissed || acted || !open {
        *notice = None;
    }
    acted
}

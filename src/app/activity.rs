//! Code activity: each latent unit's mean absolute activation over the test points, and the
//! fraction of activations near zero (|z| < 0.01). The sparse model's signature view; shown for
//! every kind, so a class can compare. The numbers come with the snapshot
//! (`LatentCloud::stats`); this panel only draws them.

use egui::Color32;
use egui_plot::{Bar, BarChart, Legend, Plot};

use crate::latent::{LatentStats, NEAR_ZERO};

/// Draws the activity of a snapshot's cloud (`stats`), empty before the first snapshot.
pub fn activity_ui(ui: &mut egui::Ui, stats: &LatentStats) {
    ui.label(format!(
        "{:.0} % of code activations are near zero (|z| < {NEAR_ZERO})",
        stats.overall_zero * 100.0
    ));
    let mean: Vec<Bar> = stats
        .mean_abs
        .iter()
        .enumerate()
        .map(|(u, m)| {
            Bar::new(u as f64, *m as f64)
                .width(0.4)
                .name(format!("z{u}"))
        })
        .collect();
    let zero: Vec<Bar> = stats
        .zero_frac
        .iter()
        .enumerate()
        .map(|(u, z)| {
            Bar::new(u as f64 + 0.4, *z as f64)
                .width(0.4)
                .name(format!("z{u}"))
        })
        .collect();
    Plot::new("code_activity")
        .legend(Legend::default())
        .x_axis_label("code unit")
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            plot_ui.bar_chart(
                BarChart::new("mean |activation|", mean).color(Color32::from_rgb(60, 130, 255)),
            );
            plot_ui.bar_chart(
                BarChart::new("fraction near zero", zero).color(Color32::from_rgb(255, 140, 0)),
            );
        });
}

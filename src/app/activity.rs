//! Code activity: each latent unit's mean absolute activation over the test points, and the
//! fraction of activations near zero (|z| < 0.01). The sparse model's signature view; shown for
//! every kind, so a class can compare. The numbers come with the snapshot
//! (`LatentCloud::stats`); this panel only draws them.

use egui::Color32;
use egui_plot::{Bar, BarChart, Legend, Plot};

use crate::latent::NEAR_ZERO;
use crate::protocol::LatentCloud;

#[derive(Debug, Default)]
pub struct Activity {
    /// Mean |z| per unit.
    pub mean_abs: Vec<f32>,
    /// Fraction of near-zero activations per unit.
    pub zero_frac: Vec<f32>,
    /// Fraction of near-zero activations over all units and points.
    pub overall_zero: f32,
}

impl Activity {
    /// Takes the activity of a new snapshot's cloud.
    pub fn update(&mut self, cloud: &LatentCloud) {
        let stats = &cloud.stats;
        self.mean_abs.clone_from(&stats.mean_abs);
        self.zero_frac.clone_from(&stats.zero_frac);
        self.overall_zero = stats.overall_zero;
    }

    pub fn ui(&self, ui: &mut egui::Ui) {
        ui.label(format!(
            "{:.0} % of code activations are near zero (|z| < {NEAR_ZERO})",
            self.overall_zero * 100.0
        ));
        let mean: Vec<Bar> = self
            .mean_abs
            .iter()
            .enumerate()
            .map(|(u, m)| {
                Bar::new(u as f64, *m as f64)
                    .width(0.4)
                    .name(format!("z{u}"))
            })
            .collect();
        let zero: Vec<Bar> = self
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_snapshots_activity_in_place_of_the_last() {
        let cloud = LatentCloud::new(
            2,
            vec![0.0, 1.0, 0.005, -2.0, 0.5, 0.0, -0.001, 3.0],
            None,
            vec![0, 1, 2, 3],
            None,
        );
        let mut a = Activity {
            mean_abs: vec![9.0; 5],
            zero_frac: vec![9.0; 5],
            overall_zero: 9.0,
        };
        a.update(&cloud);
        assert_eq!(a.zero_frac, vec![0.75, 0.25]);
        assert_eq!(a.mean_abs.len(), 2);
        assert!((a.mean_abs[1] - 1.5).abs() < 1e-6);
        assert!((a.overall_zero - 0.5).abs() < 1e-6);
    }
}

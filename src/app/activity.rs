//! Code activity: each latent unit's mean absolute activation over the test points, and the
//! fraction of activations near zero (|z| < 0.01). The sparse model's signature view; shown for
//! every kind, so a class can compare.

use egui::Color32;
use egui_plot::{Bar, BarChart, Legend, Plot};

use crate::protocol::LatentCloud;

/// Below this magnitude an activation counts as zero.
pub const NEAR_ZERO: f32 = 0.01;

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
    pub fn update(&mut self, cloud: &LatentCloud) {
        let (n, d) = (cloud.len(), cloud.dim);
        self.mean_abs = vec![0.0; d];
        self.zero_frac = vec![0.0; d];
        for i in 0..n {
            for (u, v) in cloud.code(i).iter().enumerate() {
                self.mean_abs[u] += v.abs();
                if v.abs() < NEAR_ZERO {
                    self.zero_frac[u] += 1.0;
                }
            }
        }
        let n = n.max(1) as f32;
        self.mean_abs.iter_mut().for_each(|m| *m /= n);
        self.zero_frac.iter_mut().for_each(|z| *z /= n);
        self.overall_zero = self.zero_frac.iter().sum::<f32>() / d.max(1) as f32;
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
    fn counts_near_zero_activations_per_unit() {
        let cloud = LatentCloud {
            dim: 2,
            codes: vec![0.0, 1.0, 0.005, -2.0, 0.5, 0.0, -0.001, 3.0],
            labels: None,
            test_indices: vec![0, 1, 2, 3],
        };
        let mut a = Activity::default();
        a.update(&cloud);
        assert_eq!(a.zero_frac, vec![0.75, 0.25]);
        assert!((a.mean_abs[1] - 1.5).abs() < 1e-6);
        assert!((a.overall_zero - 0.5).abs() < 1e-6);
    }
}

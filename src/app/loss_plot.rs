//! The loss plot: training loss per step (raw and smoothed), test metrics at each evaluation,
//! and each loss term of the model. Histories are decimated as they grow, so a frame never
//! touches more than a few thousand points however long the run.

use egui::Color32;
use egui_plot::{Legend, Line, Plot, PlotPoint, PlotPoints, Points};

use crate::protocol::{EvalReport, StepLoss};

/// At most this many points per series are drawn; older points are merged pairwise.
const MAX_POINTS: usize = 2048;

/// A series that averages consecutive points into buckets, doubling the bucket size each time
/// it reaches `MAX_POINTS`. Pushing is amortised O(1).
#[derive(Debug, Default, Clone)]
pub struct Decimated {
    points: Vec<PlotPoint>,
    bucket: usize,
    acc: (f64, f64, usize),
    total: usize,
}

impl Decimated {
    pub fn push(&mut self, x: f64, y: f64) {
        if !y.is_finite() {
            return;
        }
        self.bucket = self.bucket.max(1);
        self.total += 1;
        self.acc = (self.acc.0 + x, self.acc.1 + y, self.acc.2 + 1);
        if self.acc.2 == self.bucket {
            let n = self.acc.2 as f64;
            self.points
                .push(PlotPoint::new(self.acc.0 / n, self.acc.1 / n));
            self.acc = (0.0, 0.0, 0);
            if self.points.len() >= MAX_POINTS {
                self.points = self
                    .points
                    .chunks(2)
                    .map(|p| {
                        let n = p.len() as f64;
                        PlotPoint::new(
                            p.iter().map(|q| q.x).sum::<f64>() / n,
                            p.iter().map(|q| q.y).sum::<f64>() / n,
                        )
                    })
                    .collect();
                self.bucket *= 2;
            }
        }
    }

    pub fn points(&self) -> &[PlotPoint] {
        &self.points
    }

    /// How many values were pushed in all.
    pub fn total(&self) -> usize {
        self.total
    }
}

/// A series kept both as is and as log10, so either scale draws from borrowed points.
#[derive(Debug, Default, Clone)]
struct Series {
    lin: Decimated,
    log: Decimated,
}

impl Series {
    fn push(&mut self, x: f64, y: f64) {
        self.lin.push(x, y);
        self.log.push(x, y.max(1e-12).log10());
    }

    fn points(&self, log: bool) -> &[PlotPoint] {
        if log {
            self.log.points()
        } else {
            self.lin.points()
        }
    }
}

/// Loss histories of one run and how to draw them.
#[derive(Debug)]
pub struct LossPlot {
    raw: Series,
    smooth: Series,
    ema: Option<f64>,
    /// One series per loss term (only drawn when the model has several).
    terms: Vec<Series>,
    term_names: Vec<String>,
    test_mse: Series,
    pub log_scale: bool,
    fit_requested: bool,
    /// How many steps and evaluations of the run model are plotted.
    synced: (usize, usize),
}

impl Default for LossPlot {
    fn default() -> Self {
        Self {
            raw: Series::default(),
            smooth: Series::default(),
            ema: None,
            terms: Vec::new(),
            term_names: Vec::new(),
            test_mse: Series::default(),
            log_scale: true,
            fit_requested: false,
            synced: (0, 0),
        }
    }
}

const TERM_COLORS: [Color32; 4] = [
    Color32::from_rgb(80, 200, 120),
    Color32::from_rgb(220, 80, 200),
    Color32::from_rgb(230, 200, 60),
    Color32::from_rgb(200, 90, 90),
];

impl LossPlot {
    pub fn reset(&mut self, term_names: Vec<String>) {
        *self = Self {
            terms: vec![Series::default(); term_names.len()],
            term_names,
            log_scale: self.log_scale,
            ..Self::default()
        };
    }

    pub fn push_steps(&mut self, steps: &[StepLoss]) {
        for s in steps {
            let (x, y) = (s.step as f64, s.loss as f64);
            self.raw.push(x, y);
            if y.is_finite() {
                let ema = self.ema.map_or(y, |e| 0.95 * e + 0.05 * y);
                self.ema = Some(ema);
                self.smooth.push(x, ema);
            }
            for (series, v) in self.terms.iter_mut().zip(s.terms) {
                series.push(x, v as f64);
            }
        }
    }

    /// Takes in what the run model's histories gained since the last call.
    pub fn sync(&mut self, steps: &[StepLoss], evals: &[EvalReport]) {
        if let Some(new) = steps.get(self.synced.0..) {
            self.push_steps(new);
        }
        for r in evals.get(self.synced.1..).unwrap_or_default() {
            self.push_eval(r);
        }
        self.synced = (steps.len(), evals.len());
    }

    pub fn push_eval(&mut self, r: &EvalReport) {
        self.test_mse.push(r.step as f64, r.test_mse as f64);
    }

    /// Steps recorded so far.
    pub fn steps(&self) -> usize {
        self.raw.lin.total()
    }

    /// Points the plot draws for the raw training loss (after decimation).
    pub fn drawn_points(&self) -> usize {
        self.raw.lin.points().len()
    }

    pub fn evals(&self) -> usize {
        self.test_mse.lin.total()
    }

    /// Draws the plot, with `marks` (learning-rate and noise changes, pauses…) as labelled
    /// vertical lines at their steps.
    pub fn ui<'a>(&'a mut self, ui: &mut egui::Ui, marks: &[super::run_model::Mark]) {
        ui.horizontal(|ui| {
            ui.heading("Loss").on_hover_text(
                "How wrong the reconstructions are, step by step: the training loss (raw and \
                 smoothed) and the error on test images the model never trains on. Lines mark \
                 events (learning-rate and noise changes, pauses); click a legend entry to hide \
                 its line, drag to pan, scroll to zoom",
            );
            ui.checkbox(&mut self.log_scale, "Log scale").on_hover_text(
                "Equal steps for equal ratios: the slow gains late in a run stay visible",
            );
            if ui
                .button("Fit")
                .on_hover_text("Zoom to show all of it")
                .clicked()
            {
                self.fit_requested = true;
            }
        });
        let log = self.log_scale;
        let mut plot = Plot::new("loss_plot")
            .legend(Legend::default().position(egui_plot::Corner::RightTop))
            .x_axis_label("step")
            .y_axis_label(if log { "loss (log scale)" } else { "loss" })
            .y_axis_formatter(move |mark, _| {
                let v = if log {
                    10f64.powf(mark.value)
                } else {
                    mark.value
                };
                if v >= 0.1 {
                    format!("{v:.2}")
                } else {
                    format!("{v:.1e}")
                }
            })
            .label_formatter(move |hover| {
                let (name, p) = match hover {
                    egui_plot::HoverPosition::NearDataPoint {
                        plot_name,
                        position,
                        ..
                    } => (*plot_name, *position),
                    egui_plot::HoverPosition::Elsewhere { position } => ("", *position),
                };
                let y = if log { 10f64.powf(p.y) } else { p.y };
                Some(format!("{name}\nstep {:.0}\n{y:.5}", p.x))
            });
        if std::mem::take(&mut self.fit_requested) {
            plot = plot.reset();
        }
        let faint = Color32::from_rgba_unmultiplied(100, 150, 255, 70);
        let blue = Color32::from_rgb(60, 130, 255);
        let orange = Color32::from_rgb(255, 140, 0);
        let this = &*self;
        // Labels sit at the height of the highest point drawn (the plot's bounds would grow to
        // fit labels placed above them, frame after frame).
        let top = [&self.raw, &self.smooth, &self.test_mse]
            .iter()
            .flat_map(|s| s.points(log).iter().map(|p| p.y))
            .filter(|y| y.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        plot.show(ui, |plot_ui| {
            let grey = Color32::from_gray(150);
            // Marks at one step share a line and a label ("paused, resumed").
            let mut at_step: Vec<(u64, String)> = Vec::new();
            for m in marks.iter().filter(|_| top.is_finite()) {
                match at_step.last_mut() {
                    Some((step, label)) if *step == m.step => {
                        label.push_str(", ");
                        label.push_str(&m.label);
                    }
                    _ => at_step.push((m.step, m.label.clone())),
                }
            }
            for (step, label) in at_step {
                plot_ui.add(
                    egui_plot::VLine::new("events", step as f64)
                        .color(grey.gamma_multiply(0.6))
                        .width(1.0),
                );
                plot_ui.add(
                    egui_plot::Text::new(
                        "events",
                        PlotPoint::new(step as f64, top),
                        egui::RichText::new(label).small().color(grey),
                    )
                    .anchor(egui::Align2::LEFT_TOP),
                );
            }
            let line = |name: &str, s: &'a Series| {
                Line::new(name.to_string(), PlotPoints::Borrowed(s.points(log)))
            };
            plot_ui.add(line("train (raw)", &this.raw).color(faint).width(1.0));
            plot_ui.add(line("train", &this.smooth).color(blue).width(2.5));
            plot_ui.add(line("test MSE", &this.test_mse).color(orange).width(2.0));
            plot_ui.add(
                Points::new("test MSE", PlotPoints::Borrowed(this.test_mse.points(log)))
                    .color(orange)
                    .radius(3.5),
            );
            if this.term_names.len() > 1 {
                for (i, (name, series)) in this.term_names.iter().zip(&this.terms).enumerate() {
                    let c = TERM_COLORS[i % TERM_COLORS.len()];
                    plot_ui.add(line(&format!("train {name}"), series).color(c).width(1.5));
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimation_bounds_the_points_and_keeps_the_mean() {
        let mut d = Decimated::default();
        for i in 0..100_000 {
            d.push(i as f64, 2.0);
        }
        assert!(d.points().len() <= MAX_POINTS, "{}", d.points().len());
        assert!(d.points().len() >= MAX_POINTS / 4);
        assert!(d.points().iter().all(|p| (p.y - 2.0).abs() < 1e-9));
        assert_eq!(d.total(), 100_000);
        // x stays ordered and spans the history.
        assert!(d.points().windows(2).all(|w| w[0].x < w[1].x));
        assert!(d.points().last().unwrap().x > 90_000.0);
    }
}

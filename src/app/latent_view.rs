//! The latent scatter: test codes coloured by class, raw for a 2-D latent, PCA otherwise.
//! The legend toggles classes; hover names the point; a click selects it.

use egui::Color32;
use egui_plot::{Legend, MarkerShape, Plot, PlotPoint, PlotPoints, PlotTransform, Points};

use crate::latent::{DISPLAY_FIT_POINTS, Pca};
use crate::protocol::LatentCloud;

/// Distinct colours for the classes (Tableau 10), repeated with a shift beyond ten.
pub fn class_colour(class: usize) -> Color32 {
    const TAB10: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = TAB10[class % 10];
    let shift = (class / 10) as u8 * 40;
    Color32::from_rgb(r.wrapping_add(shift), g.wrapping_add(shift / 2), b)
}

struct ClassSeries {
    name: String,
    colour: Color32,
    points: Vec<PlotPoint>,
    /// Index in the cloud of each point.
    members: Vec<usize>,
}

#[derive(Default)]
pub struct LatentView {
    pca: Option<Pca>,
    /// 2-D display coordinates of every point, cloud order.
    coords: Vec<PlotPoint>,
    series: Vec<ClassSeries>,
    title: String,
    pub selected: Option<usize>,
    transform: Option<PlotTransform>,
}

impl LatentView {
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    pub fn len(&self) -> usize {
        self.coords.len()
    }

    /// The PCA behind the view, for latents of more than two dimensions.
    pub fn pca(&self) -> Option<&Pca> {
        self.pca.as_ref()
    }

    /// Recomputes the projection for a new cloud (PCA warm-starts from the last one).
    pub fn update(&mut self, cloud: &LatentCloud, class_names: &[String]) {
        let n = cloud.len();
        self.coords = match cloud.dim {
            0 => Vec::new(),
            1 => (0..n)
                .map(|i| PlotPoint::new(cloud.code(i)[0], 0.0))
                .collect(),
            2 => (0..n)
                .map(|i| PlotPoint::new(cloud.code(i)[0], cloud.code(i)[1]))
                .collect(),
            d => {
                self.pca =
                    Pca::fit_sampled(&cloud.codes, d, 2, self.pca.as_ref(), DISPLAY_FIT_POINTS);
                match &self.pca {
                    Some(pca) => (0..n)
                        .map(|i| {
                            let p = pca.project(cloud.code(i));
                            PlotPoint::new(p[0], p[1])
                        })
                        .collect(),
                    None => Vec::new(),
                }
            }
        };
        self.title = match (cloud.dim, &self.pca) {
            (1, _) => "Latent space (1-D)".to_string(),
            (2, _) => "Latent space (raw 2-D)".to_string(),
            (d, Some(p)) if d > 2 => format!(
                "Latent space: PCA of {d}-D (axes explain {:.0}% + {:.0}%)",
                p.explained[0] * 100.0,
                p.explained.get(1).copied().unwrap_or(0.0) * 100.0
            ),
            _ => "Latent space".to_string(),
        };
        let classes = match &cloud.labels {
            Some(_) => class_names.len().max(1),
            None => 1,
        };
        self.series = (0..classes)
            .map(|c| ClassSeries {
                name: match &cloud.labels {
                    Some(_) => class_names.get(c).cloned().unwrap_or_else(|| c.to_string()),
                    None => "test points".to_string(),
                },
                colour: class_colour(c),
                points: Vec::new(),
                members: Vec::new(),
            })
            .collect();
        for (i, p) in self.coords.iter().enumerate() {
            let c = cloud
                .labels
                .as_ref()
                .map(|l| l[i] as usize)
                .unwrap_or(0)
                .min(classes - 1);
            self.series[c].points.push(*p);
            self.series[c].members.push(i);
        }
        if self.selected.is_some_and(|s| s >= n) {
            self.selected = None;
        }
    }

    /// Where point `i` was drawn in the last frame, in screen coordinates.
    pub fn screen_pos(&self, i: usize) -> Option<egui::Pos2> {
        let t = self.transform.as_ref()?;
        Some(t.position_from_point(self.coords.get(i)?))
    }

    /// Draws the scatter; returns the point a click selected this frame.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<usize> {
        ui.heading(if self.title.is_empty() {
            "Latent space"
        } else {
            &self.title
        });
        if self.coords.is_empty() {
            ui.centered_and_justified(|ui| {
                ui.label("Latent codes of the test images appear here while training.");
            });
            return None;
        }
        let series = &self.series;
        let selected = self.selected.and_then(|i| self.coords.get(i).copied());
        let response = Plot::new("latent_scatter")
            .legend(Legend::default().position(egui_plot::Corner::RightTop))
            .data_aspect(1.0)
            .label_formatter(|hover| match hover {
                egui_plot::HoverPosition::NearDataPoint { plot_name, .. } => {
                    Some(plot_name.to_string())
                }
                egui_plot::HoverPosition::Elsewhere { .. } => None,
            })
            .show(ui, |plot_ui| {
                for s in series {
                    plot_ui.add(
                        Points::new(s.name.clone(), PlotPoints::Borrowed(&s.points))
                            .color(s.colour)
                            .radius(2.5)
                            .filled(true),
                    );
                }
                if let Some(p) = selected {
                    plot_ui.add(
                        Points::new("selected", PlotPoints::Owned(vec![p]))
                            .shape(MarkerShape::Circle)
                            .filled(false)
                            .radius(9.0)
                            .color(Color32::WHITE),
                    );
                }
            });
        self.transform = Some(response.transform);
        if !response.response.clicked() {
            return None;
        }
        let pointer = response.response.interact_pointer_pos()?;
        let t = self.transform.as_ref()?;
        let (best, dist) = self
            .coords
            .iter()
            .enumerate()
            .map(|(i, p)| (i, t.position_from_point(p).distance(pointer)))
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        if dist <= 12.0 {
            self.selected = Some(best);
            Some(best)
        } else {
            None
        }
    }
}

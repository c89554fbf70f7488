//! The manifold grid: decodes across a plane of the latent space, drawn as one picture. For a
//! 2-D latent the plane is the latent space itself (as in the classic VAE figure); otherwise it is
//! spanned by the two principal axes through the selected point (or the mean). Mean, spread and
//! axes come with the snapshot (`LatentCloud::stats`); nothing is fitted here.

use std::sync::Arc;

use egui::Vec2;

use super::pixels::Texture;
use crate::latent::{axis, plane_grid};
use crate::protocol::{LatentCloud, LatentDecoder, SampleGrid};
use crate::render;

pub struct Manifold {
    /// Decodes per side.
    pub side: usize,
    texture: Texture,
    /// The decodes shown, `side²` samples, row-major.
    pub grid: Option<SampleGrid>,
    caption: String,
}

impl Default for Manifold {
    fn default() -> Self {
        Self {
            side: 10,
            texture: Texture::default(),
            grid: None,
            caption: String::new(),
        }
    }
}

impl Manifold {
    /// Recomputes the grid with the current decoder, around `center` (the mean when `None`),
    /// over the cloud's principal plane (its own plane for a 1-D or 2-D latent).
    pub fn update(
        &mut self,
        ctx: &egui::Context,
        decoder: &Arc<dyn LatentDecoder>,
        cloud: &LatentCloud,
        center: Option<&[f32]>,
    ) {
        let dim = decoder.latent_dim();
        let stats = &cloud.stats;
        if cloud.dim != dim || cloud.is_empty() || stats.std.len() != dim {
            return;
        }
        let unit = |d: usize| axis(dim, d);
        let range = |d: usize| 2.5 * stats.std[d];
        let (u, ru, v, rv) = match (dim, &stats.pca) {
            (1, _) => (unit(0), range(0), vec![0.0; 1], 0.0),
            (2, _) => (unit(0), range(0), unit(1), range(1)),
            (_, Some(p)) if p.components.len() >= 2 => (
                p.components[0].clone(),
                2.5 * p.variances[0].sqrt(),
                p.components[1].clone(),
                2.5 * p.variances[1].sqrt(),
            ),
            _ => (unit(0), range(0), unit(1), range(1)),
        };
        let centre: Vec<f32> = match center {
            Some(c) if dim > 2 => c.to_vec(),
            _ => stats.mean.clone(),
        };
        let grid = plane_grid(decoder.as_ref(), &centre, (&u, ru), (&v, rv), self.side);
        if let Some(img) = render::grid(&grid, self.side, 1, 1) {
            self.texture.set(ctx, "manifold-grid", &img);
        }
        self.caption = match dim {
            1 | 2 => "Decodes across the observed range of the latent space".into(),
            _ if center.is_some() => {
                "Decodes along the two principal axes through the selected point".into()
            }
            _ => "Decodes along the two principal axes through the mean".into(),
        };
        self.grid = Some(grid);
    }

    /// True when the grid shown no longer has the requested size.
    pub fn wrong_size(&self) -> bool {
        self.grid
            .as_ref()
            .is_some_and(|g| g.len() != self.side * self.side)
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        ui.add(egui::Slider::new(&mut self.side, 3..=20).text("Grid size"))
            .on_hover_text("Decodes along each side of the grid");
        ui.weak(&self.caption);
        let bounds = Vec2::new(ui.available_width(), ui.available_height()).max(Vec2::splat(32.0));
        if self.texture.show(ui, bounds).is_none() {
            ui.label("The grid appears with the first snapshot of a run.");
        }
    }
}

//! **Export figure…**: a view of the window as a PNG for slides, cut from a screenshot of the
//! next frame (what the user sees, at the screen's resolution).

use egui::{ColorImage, Rect};

use crate::render::Canvas;

/// Which part of the window a figure shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    LossPlot,
    Reconstructions,
    LatentView,
    /// The sliders, samples or decodes beside the latent view.
    Explorer,
    Window,
}

impl Figure {
    pub const ALL: [Figure; 5] = [
        Figure::LossPlot,
        Figure::Reconstructions,
        Figure::LatentView,
        Figure::Explorer,
        Figure::Window,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Figure::LossPlot => "Loss plot",
            Figure::Reconstructions => "Inputs and reconstructions",
            Figure::LatentView => "Latent view",
            Figure::Explorer => "Sliders and decodes",
            Figure::Window => "Whole window",
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Figure::LossPlot => "loss.png",
            Figure::Reconstructions => "reconstructions.png",
            Figure::LatentView => "latent.png",
            Figure::Explorer => "explorer.png",
            Figure::Window => "latentlab.png",
        }
    }
}

/// The PNG of `region` (in points; `None`: all) of a screenshot taken at `pixels_per_point`.
pub fn png(
    image: &ColorImage,
    region: Option<Rect>,
    pixels_per_point: f32,
) -> anyhow::Result<Vec<u8>> {
    let [w, h] = image.size;
    let (x0, y0, x1, y1) = match region {
        None => (0, 0, w, h),
        Some(r) => {
            let px =
                |v: f32, max: usize| ((v * pixels_per_point).round().max(0.0) as usize).min(max);
            (
                px(r.min.x, w),
                px(r.min.y, h),
                px(r.max.x, w),
                px(r.max.y, h),
            )
        }
    };
    anyhow::ensure!(x1 > x0 && y1 > y0, "the view to export is not on screen");
    let mut rgb = Vec::with_capacity((x1 - x0) * (y1 - y0) * 3);
    for y in y0..y1 {
        for p in &image.pixels[y * w + x0..y * w + x1] {
            rgb.extend([p.r(), p.g(), p.b()]);
        }
    }
    Canvas {
        width: x1 - x0,
        height: y1 - y0,
        rgb,
        smooth: true,
    }
    .png()
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::{Color32, pos2};

    #[test]
    fn a_region_in_points_is_cut_at_the_screens_resolution() {
        // 8×4 pixels at 2 pixels per point: the left half red, the right half blue.
        let pixels = (0..32)
            .map(|i| {
                if i % 8 < 4 {
                    Color32::RED
                } else {
                    Color32::BLUE
                }
            })
            .collect();
        let image = ColorImage::new([8, 4], pixels);
        let right = Rect::from_min_max(pos2(2.0, 0.0), pos2(4.0, 2.0));
        let png = png(&image, Some(right), 2.0).unwrap();
        let decoded = image::load_from_memory(&png).unwrap().to_rgb8();
        assert_eq!(decoded.dimensions(), (4, 4));
        assert!(decoded.pixels().all(|p| p.0 == [0, 0, 255]));
        let all = image::load_from_memory(&super::png(&image, None, 2.0).unwrap()).unwrap();
        assert_eq!((all.width(), all.height()), (8, 4));
        let off = Rect::from_min_max(pos2(10.0, 0.0), pos2(12.0, 2.0));
        assert!(super::png(&image, Some(off), 2.0).is_err());
    }
}

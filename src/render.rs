//! The one renderer of samples, chosen by modality: a sample becomes an RGB tile (an image its
//! pixels, a series a line plot), and tiles compose into strips and grids. Every view that shows
//! samples (the studio's panels through `app::pixels`, the run folder's figures, the Projector
//! sprite) draws through here, so a new modality is one `SampleShape` variant and one arm in
//! [`tile`].
//!
//! Plain bytes; never imports egui or burn.

use crate::data::{ImageShape, SampleShape, SeriesShape, SpectrogramShape};
use crate::protocol::{SampleGrid, Snapshot};

pub type Rgb = [u8; 3];

/// Between tiles.
pub const GAP_COLOUR: Rgb = [40, 40, 40];
/// Behind a line plot.
const PLOT_BACKGROUND: Rgb = [18, 20, 26];
const ZERO_LINE: Rgb = [60, 64, 74];
/// The clean input, in every view that overlays.
pub const INPUT: Rgb = [225, 225, 225];
/// The corrupted input.
pub const NOISY: Rgb = [240, 150, 60];
/// What the model made.
pub const OUTPUT: Rgb = [80, 170, 255];

/// Series tiles: pixels per time step (before clamping) and the clamps.
const SERIES_PX_PER_STEP: usize = 3;
const SERIES_MIN_W: usize = 120;
const SERIES_MAX_W: usize = 256;

/// An RGB picture, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Canvas {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
    /// True when the picture should be smoothed when enlarged (line plots); false for pixel
    /// art that must stay sharp (images).
    pub smooth: bool,
}

impl Canvas {
    pub fn filled(width: usize, height: usize, colour: Rgb) -> Self {
        Self {
            width,
            height,
            rgb: colour.repeat(width * height),
            smooth: false,
        }
    }

    pub fn get(&self, x: usize, y: usize) -> Rgb {
        let o = (y * self.width + x) * 3;
        [self.rgb[o], self.rgb[o + 1], self.rgb[o + 2]]
    }

    fn put(&mut self, x: usize, y: usize, c: Rgb) {
        let o = (y * self.width + x) * 3;
        self.rgb[o..o + 3].copy_from_slice(&c);
    }

    /// Mixes `c` into pixel (x, y) with coverage `a` in [0, 1].
    fn blend(&mut self, x: usize, y: usize, c: Rgb, a: f32) {
        let o = (y * self.width + x) * 3;
        for (dst, src) in self.rgb[o..o + 3].iter_mut().zip(c) {
            *dst = (*dst as f32 + (src as f32 - *dst as f32) * a).round() as u8;
        }
    }

    /// Copies `other` with its top-left corner at (x0, y0), clipped.
    pub fn blit(&mut self, other: &Canvas, x0: usize, y0: usize) {
        for y in 0..other.height.min(self.height.saturating_sub(y0)) {
            let w = other.width.min(self.width.saturating_sub(x0));
            let src = &other.rgb[y * other.width * 3..(y * other.width + w) * 3];
            let o = ((y0 + y) * self.width + x0) * 3;
            self.rgb[o..o + w * 3].copy_from_slice(src);
        }
    }

    /// The picture shrunk (box filter) to fit a `side`×`side` square, centred on black; never
    /// enlarged.
    pub fn fit_square(&self, side: usize) -> Canvas {
        let scale = (side as f64 / self.width.max(self.height).max(1) as f64).min(1.0);
        let (w, h) = (
            ((self.width as f64 * scale).round() as usize).clamp(1, side),
            ((self.height as f64 * scale).round() as usize).clamp(1, side),
        );
        let mut out = Canvas::filled(side, side, [0, 0, 0]);
        out.blit(&self.shrunk(w, h), (side - w) / 2, (side - h) / 2);
        out.smooth = self.smooth;
        out
    }

    /// The picture resized to `w`×`h` with a box filter (meant for shrinking).
    pub fn shrunk(&self, w: usize, h: usize) -> Canvas {
        let mut out = Canvas::filled(w, h, [0, 0, 0]);
        for ty in 0..h {
            let (y0, y1) = span(ty, h, self.height);
            for tx in 0..w {
                let (x0, x1) = span(tx, w, self.width);
                let mut acc = [0u32; 3];
                for y in y0..y1 {
                    for x in x0..x1 {
                        for (a, v) in acc.iter_mut().zip(self.get(x, y)) {
                            *a += v as u32;
                        }
                    }
                }
                let n = ((y1 - y0) * (x1 - x0)).max(1) as u32;
                out.put(tx, ty, acc.map(|a| ((a + n / 2) / n) as u8));
            }
        }
        out.smooth = self.smooth;
        out
    }

    /// Encodes the picture as PNG.
    pub fn png(&self) -> anyhow::Result<Vec<u8>> {
        use anyhow::Context as _;
        use image::ImageEncoder as _;
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(
                &self.rgb,
                self.width as u32,
                self.height as u32,
                image::ExtendedColorType::Rgb8,
            )
            .context("cannot encode PNG")?;
        Ok(out)
    }
}

/// The source range that target index `t` of `n` covers in `len` source pixels (at least one).
fn span(t: usize, n: usize, len: usize) -> (usize, usize) {
    let a = t * len / n;
    (a, ((t + 1) * len / n).max(a + 1).min(len))
}

/// One sample drawn in one colour, for overlays.
#[derive(Debug, Clone, Copy)]
pub struct Layer<'a> {
    pub values: &'a [f32],
    pub colour: Rgb,
}

/// True when samples of this shape are compared by overlaying them in one tile (line plots)
/// rather than by placing them side by side (images).
pub fn overlays(shape: SampleShape) -> bool {
    match shape {
        SampleShape::Image(_) | SampleShape::Spectrogram(_) => false,
        SampleShape::Series(_) => true,
    }
}

/// The tile size, `[width, height]`, for one sample; images are enlarged `scale` times (nearest
/// neighbour), line plots have a size of their own.
pub fn tile_size(shape: SampleShape, scale: usize) -> [usize; 2] {
    match shape {
        SampleShape::Image(s) => [s.width * scale, s.height * scale],
        SampleShape::Series(s) => {
            let w = (s.steps * SERIES_PX_PER_STEP).clamp(SERIES_MIN_W, SERIES_MAX_W);
            [w, w / 2]
        }
        SampleShape::Spectrogram(s) => [s.frames * scale, s.bands * scale],
    }
}

/// Draws `layers` (each one sample of `shape`) as one tile. Images show their first layer;
/// series draw every layer as a curve, in order, on shared axes.
pub fn tile(shape: SampleShape, layers: &[Layer], scale: usize) -> Canvas {
    let [w, h] = tile_size(shape, scale);
    match shape {
        SampleShape::Image(s) => image_tile(s, layers.first().map_or(&[], |l| l.values), scale),
        SampleShape::Series(s) => series_tile(s, layers, w, h),
        SampleShape::Spectrogram(s) => {
            spectrogram_tile(s, layers.first().map_or(&[], |l| l.values), scale)
        }
    }
}

/// One sample in its natural colours ([`OUTPUT`] for a curve).
pub fn single(shape: SampleShape, values: &[f32], scale: usize) -> Canvas {
    tile(
        shape,
        &[Layer {
            values,
            colour: OUTPUT,
        }],
        scale,
    )
}

/// The `[width, height]` of a thumbnail of one sample: an image's own size, a small plot (with
/// its tile's 2:1 aspect) for a series.
pub fn thumbnail_size(shape: SampleShape) -> [usize; 2] {
    match shape {
        SampleShape::Image(s) => [s.width, s.height],
        SampleShape::Series(_) => [64, 32],
        SampleShape::Spectrogram(s) => [s.frames, s.bands],
    }
}

/// True when samples of `shape` have colours of their own (colour images); grey images,
/// curves and spectrograms are drawn as glyphs a view may tint.
pub fn has_colour(shape: SampleShape) -> bool {
    shape.image().is_some_and(|s| s.channels >= 3)
}

/// The grid a user can draw a sample of `shape` on: `[channels, height, width]` for images,
/// `None` for series and sounds.
pub fn drawing_grid(shape: SampleShape) -> Option<[usize; 3]> {
    shape.image().map(|s| [s.channels, s.height, s.width])
}

/// One sample as a thumbnail of [`thumbnail_size`] (shrunk with a box filter).
pub fn thumbnail(shape: SampleShape, values: &[f32]) -> Canvas {
    let [w, h] = thumbnail_size(shape);
    let tile = single(shape, values, 1);
    if [tile.width, tile.height] == [w, h] {
        tile
    } else {
        tile.shrunk(w, h)
    }
}

fn image_tile(s: ImageShape, pixels: &[f32], scale: usize) -> Canvas {
    let scale = scale.max(1);
    let mut c = Canvas::filled(s.width * scale, s.height * scale, [0, 0, 0]);
    if pixels.len() < s.pixels() || s.channels == 0 {
        return c;
    }
    let plane = s.height * s.width;
    for y in 0..s.height * scale {
        for x in 0..s.width * scale {
            let (sy, sx) = (y / scale, x / scale);
            let at = |ch: usize| {
                let v = pixels[ch.min(s.channels - 1) * plane + sy * s.width + sx];
                (v.clamp(0.0, 1.0) * 255.0).round() as u8
            };
            let rgb = if s.channels >= 3 {
                [at(0), at(1), at(2)]
            } else {
                [at(0); 3]
            };
            c.put(x, y, rgb);
        }
    }
    c
}

/// A spectrogram as a heat map: time to the right, low bands at the bottom, the normalised
/// log-mel range [-2, 2.5] (silence to loud speech) through a magma-like ramp, so every tile
/// uses the same colours for the same loudness.
fn spectrogram_tile(s: SpectrogramShape, values: &[f32], scale: usize) -> Canvas {
    let scale = scale.max(1);
    let mut c = Canvas::filled(s.frames * scale, s.bands * scale, [0, 0, 0]);
    if values.len() < s.bands * s.frames {
        return c;
    }
    const STOPS: [Rgb; 5] = [
        [0, 0, 4],
        [80, 18, 123],
        [182, 54, 121],
        [251, 136, 97],
        [252, 253, 191],
    ];
    let colour = |v: f32| -> Rgb {
        let t = ((v + 2.0) / 4.5).clamp(0.0, 1.0) * (STOPS.len() - 1) as f32;
        let i = (t.floor() as usize).min(STOPS.len() - 2);
        let f = t - i as f32;
        let (a, b) = (STOPS[i], STOPS[i + 1]);
        [0, 1, 2].map(|k| (a[k] as f32 + (b[k] as f32 - a[k] as f32) * f).round() as u8)
    };
    for y in 0..s.bands * scale {
        let band = s.bands - 1 - y / scale;
        for x in 0..s.frames * scale {
            let v = values[band * s.frames + x / scale];
            c.put(x, y, colour(if v.is_finite() { v } else { -2.0 }));
        }
    }
    c
}

fn series_tile(s: SeriesShape, layers: &[Layer], w: usize, h: usize) -> Canvas {
    let mut c = Canvas::filled(w, h, PLOT_BACKGROUND);
    c.smooth = true;
    let n = s.channels * s.steps;
    let finite = |l: &&Layer| l.values.len() >= n;
    // Shared axes: every layer's range, and at least [-1, 1] so a flat curve stays flat.
    let (mut lo, mut hi) = (-1.0f32, 1.0f32);
    for l in layers.iter().filter(finite) {
        for &v in &l.values[..n] {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    let pad = 0.08 * (hi - lo);
    let (lo, hi) = (lo - pad, hi + pad);
    let y_of = |v: f32| (hi - v.clamp(lo, hi)) / (hi - lo) * (h - 1) as f32;
    let zero = y_of(0.0).round() as usize;
    for x in 0..w {
        c.put(x, zero.min(h - 1), ZERO_LINE);
    }
    let x_of = |t: usize| 2.0 + t as f32 * (w as f32 - 5.0) / (s.steps.max(2) - 1) as f32;
    let thickness = if w >= 200 { 2.2 } else { 1.8 };
    for l in layers.iter().filter(finite) {
        for ch in 0..s.channels {
            let v = &l.values[ch * s.steps..(ch + 1) * s.steps];
            for t in 1..s.steps {
                if v[t - 1].is_finite() && v[t].is_finite() {
                    line(
                        &mut c,
                        (x_of(t - 1), y_of(v[t - 1])),
                        (x_of(t), y_of(v[t])),
                        thickness,
                        l.colour,
                    );
                }
            }
        }
    }
    c
}

/// An anti-aliased line segment of the given thickness (coverage by distance to the segment).
fn line(c: &mut Canvas, a: (f32, f32), b: (f32, f32), thickness: f32, colour: Rgb) {
    let r = thickness / 2.0 + 0.5;
    let (x0, x1) = (a.0.min(b.0) - r, a.0.max(b.0) + r);
    let (y0, y1) = (a.1.min(b.1) - r, a.1.max(b.1) + r);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = (dx * dx + dy * dy).max(1e-6);
    for y in (y0.floor().max(0.0) as usize)..=(y1.ceil().max(0.0) as usize).min(c.height - 1) {
        for x in (x0.floor().max(0.0) as usize)..=(x1.ceil().max(0.0) as usize).min(c.width - 1) {
            let (px, py) = (x as f32 - a.0, y as f32 - a.1);
            let t = ((px * dx + py * dy) / len2).clamp(0.0, 1.0);
            let d = ((px - t * dx).powi(2) + (py - t * dy).powi(2)).sqrt();
            let cover = (r - d).clamp(0.0, 1.0);
            if cover > 0.0 {
                c.blend(x, y, colour, cover);
            }
        }
    }
}

/// Tiles laid out row-major, `cols` per row, `gap` pixels of [`GAP_COLOUR`] between them.
pub fn compose(tiles: &[Canvas], cols: usize, gap: usize) -> Option<Canvas> {
    let first = tiles.first()?;
    let cols = cols.max(1);
    let rows = tiles.len().div_ceil(cols);
    let (tw, th) = (first.width, first.height);
    let mut c = Canvas::filled(
        cols * tw + (cols - 1) * gap,
        rows * th + (rows - 1) * gap,
        GAP_COLOUR,
    );
    c.smooth = first.smooth;
    for (i, t) in tiles.iter().enumerate() {
        c.blit(t, (i % cols) * (tw + gap), (i / cols) * (th + gap));
    }
    Some(c)
}

/// Every sample of `grid`, `cols` per row.
pub fn grid(grid: &SampleGrid, cols: usize, gap: usize, scale: usize) -> Option<Canvas> {
    let shape = grid.shape?;
    let tiles: Vec<Canvas> = (0..grid.len())
        .map(|i| single(shape, grid.sample(i), scale))
        .collect();
    compose(&tiles, cols, gap)
}

/// Tiles `cols` to a row, tile `i` overlaying sample `i` of every grid in its colour.
pub fn overlay_grid(
    grids: &[(&SampleGrid, Rgb)],
    cols: usize,
    gap: usize,
    scale: usize,
) -> Option<Canvas> {
    let shape = grids.iter().find_map(|(g, _)| g.shape)?;
    let n = grids.iter().map(|(g, _)| g.len()).min()?;
    let tiles: Vec<Canvas> = (0..n)
        .map(|i| {
            let layers: Vec<Layer> = grids
                .iter()
                .map(|(g, colour)| Layer {
                    values: g.sample(i),
                    colour: *colour,
                })
                .collect();
            tile(shape, &layers, scale)
        })
        .collect();
    compose(&tiles, cols.min(n), gap)
}

/// Every sample of `grid` overlaid in one tile, coloured from `from` to `to` in order (an
/// interpolation's fan of curves).
pub fn fan(grid: &SampleGrid, from: Rgb, to: Rgb, scale: usize) -> Option<Canvas> {
    let shape = grid.shape?;
    let n = grid.len();
    let layers: Vec<Layer> = (0..n)
        .map(|i| {
            let t = i as f32 / (n.max(2) - 1) as f32;
            Layer {
                values: grid.sample(i),
                colour: std::array::from_fn(|k| {
                    (from[k] as f32 + (to[k] as f32 - from[k] as f32) * t).round() as u8
                }),
            }
        })
        .collect();
    (n > 0).then(|| tile(shape, &layers, scale))
}

/// Canvases stacked top to bottom (left-aligned), `gap` pixels apart.
pub fn stack(parts: &[Canvas], gap: usize) -> Option<Canvas> {
    let first = parts.first()?;
    let width = parts.iter().map(|p| p.width).max().unwrap_or(0);
    let height = parts.iter().map(|p| p.height).sum::<usize>() + gap * (parts.len() - 1);
    let mut c = Canvas::filled(width, height, GAP_COLOUR);
    c.smooth = first.smooth;
    let mut y = 0;
    for p in parts {
        c.blit(p, 0, y);
        y += p.height + gap;
    }
    Some(c)
}

/// How a comparison of inputs and outputs is laid out: one named picture per row. Images get a
/// row each for input, noisy input (when given) and output; series get tiles of overlaid curves
/// (the noisy one only where it differs from the input), `wrap` tiles to a line.
pub fn comparison(
    inputs: &SampleGrid,
    noisy: Option<&SampleGrid>,
    outputs: &SampleGrid,
    wrap: usize,
    gap: usize,
    scale: usize,
) -> Vec<(&'static str, Canvas)> {
    let Some(shape) = inputs.shape else {
        return Vec::new();
    };
    if overlays(shape) {
        let mut grids = vec![(inputs, INPUT)];
        if let Some(noisy) = noisy.filter(|n| *n != inputs) {
            grids.push((noisy, NOISY));
        }
        grids.push((outputs, OUTPUT));
        return overlay_grid(&grids, wrap, gap, scale)
            .map(|c| vec![("curves", c)])
            .unwrap_or_default();
    }
    let mut rows = vec![("input", inputs)];
    if let Some(noisy) = noisy {
        rows.push(("noisy", noisy));
    }
    rows.push(("output", outputs));
    rows.into_iter()
        .filter_map(|(name, g)| grid(g, g.len(), gap, scale).map(|c| (name, c)))
        .collect()
}

/// Tiles to a row in the history exports.
const HISTORY_WRAP: usize = 8;
/// Height of the bar under each animation frame that shows how far into the run it is.
const PROGRESS_H: usize = 4;

/// The triptych of one kept moment as rows: inputs (and their corruption, for a run that
/// corrupts them) then outputs; a series run overlays them in one picture.
fn moment_rows(s: &Snapshot, scale: usize) -> Vec<Canvas> {
    let noisy = (s.noisy != s.inputs).then_some(&s.noisy);
    comparison(&s.inputs, noisy, &s.reconstructions, HISTORY_WRAP, 1, scale)
        .into_iter()
        .map(|(_, c)| c)
        .collect()
}

/// Reconstructions over time, for slides: the inputs on top, then what the model made of them
/// at up to `rows` moments spread evenly over the kept `history` (its first and last always),
/// one row per moment, oldest first.
fn history_strip(history: &[impl AsRef<Snapshot>], rows: usize, scale: usize) -> Option<Canvas> {
    let last = history.last()?.as_ref();
    let overlaid = overlays(last.inputs.shape?);
    let mut parts = moment_rows(last, scale);
    // A series' moments each overlay their own inputs: there is no separate head row.
    parts.truncate(if overlaid {
        0
    } else {
        parts.len().saturating_sub(1)
    });
    for i in spread(history.len(), rows) {
        parts.extend(moment_rows(history[i].as_ref(), scale).pop());
    }
    stack(&parts, 3)
}

/// `count` indices spread evenly over `0..len`, the first and the last included (all of them
/// when there are no more than `count`).
fn spread(len: usize, count: usize) -> Vec<usize> {
    if len <= count.max(2) {
        return (0..len).collect();
    }
    let mut picked: Vec<usize> = (0..count)
        .map(|k| (k * (len - 1) + (count - 1) / 2) / (count - 1))
        .collect();
    picked.dedup();
    picked
}

/// The frames of the run replayed: each kept moment's triptych with a bar under it that fills
/// as the run goes on (by step, from the first kept moment to the last).
fn history_frames(history: &[impl AsRef<Snapshot>], scale: usize) -> Vec<Canvas> {
    let (Some(first), Some(last)) = (history.first(), history.last()) else {
        return Vec::new();
    };
    let (from, to) = (first.as_ref().step, last.as_ref().step);
    let frames: Vec<Canvas> = history
        .iter()
        .filter_map(|s| {
            let s = s.as_ref();
            let picture = stack(&moment_rows(s, scale), 1)?;
            let mut bar = Canvas::filled(picture.width, PROGRESS_H, GAP_COLOUR);
            let done = (s.step - from) as f64 / (to - from).max(1) as f64;
            for x in 0..(done * picture.width as f64).round() as usize {
                for y in 0..PROGRESS_H {
                    bar.put(x.min(picture.width - 1), y, OUTPUT);
                }
            }
            stack(&[picture, bar], 1)
        })
        .collect();
    // Every frame on one canvas size, should a moment's grids differ from the others'.
    let width = frames.iter().map(|f| f.width).max().unwrap_or(0);
    let height = frames.iter().map(|f| f.height).max().unwrap_or(0);
    frames
        .into_iter()
        .map(|f| {
            if (f.width, f.height) == (width, height) {
                return f;
            }
            let mut c = Canvas::filled(width, height, GAP_COLOUR);
            c.blit(&f, 0, 0);
            c
        })
        .collect()
}

/// A run's kept history as a file, the same from the studio's File menu and the CLI's run
/// folder: replayed as a GIF (`animated`, every moment a quarter second, as the timeline's Play)
/// or a PNG strip of the reconstructions at up to a dozen moments.
pub fn history_file(history: &[impl AsRef<Snapshot>], animated: bool) -> anyhow::Result<Vec<u8>> {
    if animated {
        let frames = history_frames(history, 2);
        anyhow::ensure!(
            !frames.is_empty(),
            "the run has no reconstructions to replay yet"
        );
        gif(&frames, 250)
    } else {
        history_strip(history, 12, 2)
            .ok_or_else(|| anyhow::anyhow!("the run has no reconstructions to draw yet"))?
            .png()
    }
}

/// Encodes `frames` (of one size) as an animated GIF that loops, each shown `delay_ms`.
fn gif(frames: &[Canvas], delay_ms: u32) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context as _;
    use image::codecs::gif::{GifEncoder, Repeat};
    let mut out = Vec::new();
    {
        // Speed 10 of 1..=30: the default's quality at a fraction of its quantising time.
        let mut encoder = GifEncoder::new_with_speed(&mut out, 10);
        encoder
            .set_repeat(Repeat::Infinite)
            .context("cannot start the GIF")?;
        for f in frames {
            let rgba: Vec<u8> = f
                .rgb
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect();
            let image = image::RgbaImage::from_raw(f.width as u32, f.height as u32, rgba)
                .context("a GIF frame's size does not match its pixels")?;
            let delay = image::Delay::from_numer_denom_ms(delay_ms, 1);
            encoder
                .encode_frame(image::Frame::from_parts(image, 0, 0, delay))
                .context("cannot encode a GIF frame")?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_strip_spreads_its_rows_over_the_whole_run() {
        let picked = spread(48, 12);
        assert_eq!(picked.len(), 12);
        assert_eq!((picked[0], picked[11]), (0, 47));
        assert!(picked.windows(2).all(|w| w[1] > w[0] && w[1] - w[0] <= 5));
        assert_eq!(spread(3, 12), [0, 1, 2]);
        assert_eq!(spread(13, 12).len(), 12);
    }

    fn image_grid() -> SampleGrid {
        let shape = ImageShape {
            channels: 1,
            height: 2,
            width: 2,
        };
        SampleGrid::new(shape, vec![0.0, 1.0, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5])
    }

    #[test]
    fn images_are_pixels_enlarged_without_smoothing() {
        let c = grid(&image_grid(), 2, 1, 3).unwrap();
        assert_eq!((c.width, c.height), (2 * 6 + 1, 6));
        assert!(!c.smooth);
        assert_eq!(c.get(3, 0), [255; 3]);
        assert_eq!(c.get(0, 0), [0; 3]);
        assert_eq!(c.get(6, 0), GAP_COLOUR);
        assert_eq!(c.get(7, 5), [128; 3]);
    }

    #[test]
    fn series_are_curves_that_go_where_the_values_go() {
        let shape = SeriesShape {
            channels: 1,
            steps: 64,
        };
        // A rising ramp from -1 to 1: the curve starts low on the left and ends high on the right.
        let ramp: Vec<f32> = (0..64).map(|t| -1.0 + 2.0 * t as f32 / 63.0).collect();
        let c = single(shape.into(), &ramp, 1);
        assert_eq!([c.width, c.height], tile_size(shape.into(), 1));
        assert!(c.smooth);
        let lit = |x: usize| {
            (0..c.height)
                .filter(|&y| c.get(x, y)[2] > 200)
                .collect::<Vec<_>>()
        };
        let (left, right) = (lit(3), lit(c.width - 4));
        assert!(!left.is_empty() && !right.is_empty());
        assert!(left[0] > c.height * 3 / 4, "left {left:?}");
        assert!(right[0] < c.height / 4, "right {right:?}");
        // Nothing but background, the zero line and the curve's colour mix.
        assert!(c.rgb.chunks(3).all(|p| p[2] >= p[0]));
    }

    #[test]
    fn series_compare_as_one_overlaid_row_and_images_as_rows() {
        let series = SampleGrid::new(
            SeriesShape {
                channels: 1,
                steps: 8,
            },
            vec![0.0; 24],
        );
        let rows = comparison(&series, Some(&series), &series, usize::MAX, 2, 1);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, "curves");
        let images = image_grid();
        let names: Vec<&str> = comparison(&images, None, &images, usize::MAX, 1, 1)
            .iter()
            .map(|r| r.0)
            .collect();
        assert_eq!(names, ["input", "output"]);
    }

    #[test]
    fn fit_square_keeps_aspect_and_averages() {
        let mut c = Canvas::filled(8, 4, [200, 0, 0]);
        c.put(0, 0, [0, 0, 0]);
        let s = c.fit_square(4);
        assert_eq!((s.width, s.height), (4, 4));
        assert_eq!(s.get(0, 0), [0, 0, 0]); // letterbox
        assert_eq!(s.get(1, 1), [200, 0, 0]);
        assert_eq!(s.get(0, 1), [150, 0, 0]); // box of 4 with one black pixel
    }
}

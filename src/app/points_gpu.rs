//! Large point clouds drawn by the GPU the window is drawn with (wgpu, through egui's paint
//! callbacks): each view uploads its points once per projection, and a frame sends only a small
//! block of uniforms (the 2-D plot's bounds, or the 3-D camera) and one instanced draw call, so
//! the frame's CPU cost does not grow with the points. egui would tessellate every point on the
//! CPU each frame instead (about 3 ms per 100 000).
//!
//! Where the window has no wgpu renderer (UI tests), the views draw their points as egui shapes;
//! picking never depends on which draws (see [`crate::latent::grid`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use eframe::egui_wgpu::{self, wgpu};
use egui::{Color32, Rect};

/// The window's depth buffer (bits): the 3-D view's near points cover far ones through it,
/// without sorting on the CPU.
pub const DEPTH_BITS: u8 = 24;

/// Bytes per point: position (3 × f32), colour (RGBA8) and group (u32; the legend hides groups).
const INSTANCE_BYTES: usize = 20;
/// Groups the legend can hide (a bit mask in the uniforms); later groups always show.
pub const HIDEABLE_GROUPS: usize = 256;

/// Points ready for the GPU, built once per projection; the view hands a clone of the `Arc` to
/// each frame's callback.
#[derive(Clone)]
pub struct PointBuffer {
    /// Which view's buffer this is (each view keeps its own on the GPU).
    key: u64,
    /// Changes whenever the points do, so the buffer is uploaded again.
    generation: u64,
    bytes: Arc<[u8]>,
    count: u32,
}

static NEXT: AtomicU64 = AtomicU64::new(1);

impl Default for PointBuffer {
    fn default() -> Self {
        Self {
            key: NEXT.fetch_add(1, Ordering::Relaxed),
            generation: 0,
            bytes: Arc::from(Vec::new()),
            count: 0,
        }
    }
}

impl PointBuffer {
    /// Replaces the points: positions (2-D views leave z at 0), colours and legend groups.
    pub fn set(&mut self, points: impl ExactSizeIterator<Item = ([f32; 3], Color32, usize)>) {
        let mut bytes = vec![0u8; points.len() * INSTANCE_BYTES];
        let mut count = 0;
        for (out, (p, c, g)) in bytes.chunks_exact_mut(INSTANCE_BYTES).zip(points) {
            for (k, v) in p.iter().enumerate() {
                out[4 * k..4 * k + 4].copy_from_slice(&v.to_le_bytes());
            }
            out[12..16].copy_from_slice(&c.to_array());
            out[16..20].copy_from_slice(&(g.min(u32::MAX as usize) as u32).to_le_bytes());
            count += 1;
        }
        self.bytes = Arc::from(bytes);
        self.count = count;
        self.generation = NEXT.fetch_add(1, Ordering::Relaxed);
    }
}

/// How a frame places the points in its rectangle.
#[derive(Clone, Copy, Debug)]
pub enum Camera {
    /// A 2-D plot: the points' x and y between these bounds fill the rectangle.
    Plot {
        min: [f64; 2],
        max: [f64; 2],
        radius: f32,
    },
    /// The 3-D view's orbit camera (see `Scatter3d`): yaw, then pitch, then a perspective
    /// divide with the eye `distance` away; `scale` points per unit.
    Orbit {
        yaw: f32,
        pitch: f32,
        scale: f32,
        distance: f32,
    },
}

/// Where the orbit camera puts `p`: its offset from the view's centre in units, x to the right
/// and y upwards (times `scale` and the returned perspective factor for points on screen), its
/// depth towards the eye, and the perspective factor. The shader does the same sums.
pub fn orbit(p: [f32; 3], yaw: f32, pitch: f32, eye: f32) -> ([f32; 2], f32, f32) {
    let (sy, cy) = yaw.sin_cos();
    let (sp, cp) = pitch.sin_cos();
    // Yaw about the vertical axis, then pitch about the horizontal one.
    let x = cy * p[0] + sy * p[2];
    let z = -sy * p[0] + cy * p[2];
    let y = cp * p[1] - sp * z;
    let z = sp * p[1] + cp * z;
    ([x, y], z, eye / (eye - z))
}

/// The point of the cloud's space that [`orbit`] puts at `offset` (units from the centre, y
/// upwards, before the perspective factor) at `depth` towards the eye: the camera's sums undone.
pub fn unorbit(offset: [f32; 2], depth: f32, yaw: f32, pitch: f32) -> [f32; 3] {
    let (sy, cy) = yaw.sin_cos();
    let (sp, cp) = pitch.sin_cos();
    let [x, y] = offset;
    // Undo the pitch, then the yaw.
    let py = cp * y + sp * depth;
    let z0 = -sp * y + cp * depth;
    [cy * x - sy * z0, py, sy * x + cy * z0]
}

/// Adds the draw of `buffer` in `rect` (clipped to it) to `painter`.
pub fn paint(
    painter: &egui::Painter,
    rect: Rect,
    buffer: &PointBuffer,
    camera: Camera,
    hidden: &[usize],
) {
    painter.add(egui_wgpu::Callback::new_paint_callback(
        rect,
        Draw {
            buffer: buffer.clone(),
            camera,
            mask: mask(hidden),
            rect,
        },
    ));
}

/// The hidden groups as the shader's bit mask.
fn mask(hidden: &[usize]) -> [u32; HIDEABLE_GROUPS / 32] {
    let mut mask = [0u32; HIDEABLE_GROUPS / 32];
    for &g in hidden.iter().filter(|&&g| g < HIDEABLE_GROUPS) {
        mask[g / 32] |= 1 << (g % 32);
    }
    mask
}

/// One frame's draw of one view.
struct Draw {
    buffer: PointBuffer,
    camera: Camera,
    mask: [u32; HIDEABLE_GROUPS / 32],
    /// The callback's rectangle (points), whose pixels the viewport covers.
    rect: Rect,
}

/// What every view shares (pipelines), and each view's buffers.
struct Resources {
    flat: wgpu::RenderPipeline,
    depth: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    srgb: bool,
    views: std::collections::HashMap<u64, ViewBuffers>,
}

struct ViewBuffers {
    generation: u64,
    instances: Option<wgpu::Buffer>,
    count: u32,
    uniforms: wgpu::Buffer,
    bind: wgpu::BindGroup,
    orbit: bool,
}

const UNIFORM_BYTES: u64 = 4 * 16 + 32;

/// Creates the pipelines once, for the window's target format; call at start-up.
pub fn install(render_state: &egui_wgpu::RenderState) {
    let resources = resources(&render_state.device, render_state.target_format);
    render_state
        .renderer
        .write()
        .callback_resources
        .insert(resources);
}

/// The pipelines for a target of `format` with the window's depth buffer.
fn resources(device: &wgpu::Device, format: wgpu::TextureFormat) -> Resources {
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("latentlab_points"),
        source: wgpu::ShaderSource::Wgsl(SHADER.into()),
    });
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("latentlab_points_uniforms"),
        entries: &[wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::VERTEX | wgpu::ShaderStages::FRAGMENT,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: std::num::NonZeroU64::new(UNIFORM_BYTES),
            },
            count: None,
        }],
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("latentlab_points"),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let depth_format = egui_wgpu::depth_format_from_bits(DEPTH_BITS, 0);
    let pipeline = |test_depth: bool| {
        device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("latentlab_points"),
            layout: Some(&pipeline_layout),
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs_main"),
                buffers: &[Some(wgpu::VertexBufferLayout {
                    array_stride: INSTANCE_BYTES as u64,
                    step_mode: wgpu::VertexStepMode::Instance,
                    attributes: &wgpu::vertex_attr_array![
                        0 => Float32x3, 1 => Unorm8x4, 2 => Uint32
                    ],
                })],
                compilation_options: Default::default(),
            },
            primitive: wgpu::PrimitiveState::default(),
            depth_stencil: depth_format.map(|format| wgpu::DepthStencilState {
                format,
                depth_write_enabled: Some(test_depth),
                depth_compare: Some(if test_depth {
                    wgpu::CompareFunction::Less
                } else {
                    wgpu::CompareFunction::Always
                }),
                stencil: Default::default(),
                bias: Default::default(),
            }),
            multisample: wgpu::MultisampleState::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs_main"),
                targets: &[Some(wgpu::ColorTargetState {
                    format,
                    blend: Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING),
                    write_mask: wgpu::ColorWrites::ALL,
                })],
                compilation_options: Default::default(),
            }),
            multiview_mask: None,
            cache: None,
        })
    };
    Resources {
        flat: pipeline(false),
        depth: pipeline(true),
        layout,
        srgb: format.is_srgb(),
        views: Default::default(),
    }
}

impl egui_wgpu::CallbackTrait for Draw {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(res) = resources.get_mut::<Resources>() else {
            return Vec::new();
        };
        let layout = &res.layout;
        let view = res.views.entry(self.buffer.key).or_insert_with(|| {
            let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("latentlab_points_uniforms"),
                size: UNIFORM_BYTES,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("latentlab_points_uniforms"),
                layout,
                entries: &[wgpu::BindGroupEntry {
                    binding: 0,
                    resource: uniforms.as_entire_binding(),
                }],
            });
            ViewBuffers {
                generation: u64::MAX,
                instances: None,
                count: 0,
                uniforms,
                bind,
                orbit: false,
            }
        });
        if view.generation != self.buffer.generation {
            view.instances = (!self.buffer.bytes.is_empty()).then(|| {
                use wgpu::util::DeviceExt;
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("latentlab_points"),
                    contents: &self.buffer.bytes,
                    usage: wgpu::BufferUsages::VERTEX,
                })
            });
            view.count = self.buffer.count;
            view.generation = self.buffer.generation;
        }
        view.orbit = matches!(self.camera, Camera::Orbit { .. });
        let ppp = screen.pixels_per_point;
        // Four vec4<f32> and the mask (two vec4<u32>); see the shader's `U`.
        let mut u = [0f32; 16];
        u[0..3].copy_from_slice(&[self.rect.width() * ppp, self.rect.height() * ppp, ppp]);
        u[11] = if res.srgb { 1.0 } else { 0.0 };
        match self.camera {
            Camera::Plot { min, max, radius } => {
                let sx = 2.0 / (max[0] - min[0]).max(1e-12);
                let sy = 2.0 / (max[1] - min[1]).max(1e-12);
                u[4..8].copy_from_slice(&[
                    sx as f32,
                    sy as f32,
                    (-1.0 - min[0] * sx) as f32,
                    (-1.0 - min[1] * sy) as f32,
                ]);
                u[10] = radius;
            }
            Camera::Orbit {
                yaw,
                pitch,
                scale,
                distance,
            } => {
                u[3] = 1.0;
                u[8..10].copy_from_slice(&[scale, distance]);
                let (sy, cy) = yaw.sin_cos();
                let (sp, cp) = pitch.sin_cos();
                u[12..16].copy_from_slice(&[cy, sy, cp, sp]);
            }
        }
        let mut bytes = Vec::with_capacity(UNIFORM_BYTES as usize);
        for v in u {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        for m in self.mask {
            bytes.extend_from_slice(&m.to_le_bytes());
        }
        queue.write_buffer(&view.uniforms, 0, &bytes);
        Vec::new()
    }

    fn paint(
        &self,
        info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        let Some(res) = resources.get::<Resources>() else {
            return;
        };
        let Some(view) = res.views.get(&self.buffer.key) else {
            return;
        };
        let Some(instances) = &view.instances else {
            return;
        };
        // egui sets the viewport to the callback's rectangle; an empty one draws nothing.
        let vp = info.viewport_in_pixels();
        if vp.width_px <= 0 || vp.height_px <= 0 {
            return;
        }
        pass.set_pipeline(if view.orbit { &res.depth } else { &res.flat });
        pass.set_bind_group(0, &view.bind, &[]);
        pass.set_vertex_buffer(0, instances.slice(..));
        pass.draw(0..6, 0..view.count);
    }
}

/// Instanced quads, one per point (six vertices each), cut to discs in the fragment stage;
/// sizes are in pixels, so the vertex stage is told the viewport's size.
const SHADER: &str = r#"
struct U {
    // Viewport width and height (pixels), pixels per point, mode (0: 2-D, 1: 3-D).
    a: vec4<f32>,
    // 2-D: ndc = pos.xy * b.xy + b.zw.
    b: vec4<f32>,
    // 3-D scale (points per unit) and eye distance; 2-D radius (points); 1 for an sRGB target.
    c: vec4<f32>,
    // 3-D: cos yaw, sin yaw, cos pitch, sin pitch.
    d: vec4<f32>,
    hidden: array<vec4<u32>, 2>,
};
@group(0) @binding(0) var<uniform> u: U;

struct Out {
    @builtin(position) clip: vec4<f32>,
    @location(0) colour: vec4<f32>,
    @location(1) corner: vec2<f32>,
};

@vertex
fn vs_main(
    @builtin(vertex_index) v: u32,
    @location(0) pos: vec3<f32>,
    @location(1) colour: vec4<f32>,
    @location(2) group: u32,
) -> Out {
    var corners = array<vec2<f32>, 6>(
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
        vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, 1.0), vec2<f32>(-1.0, 1.0),
    );
    var out: Out;
    out.corner = corners[v];
    out.colour = colour;
    if (group < 256u) {
        let word = u.hidden[group / 128u][(group / 32u) % 4u];
        if (((word >> (group % 32u)) & 1u) == 1u) {
            out.clip = vec4<f32>(4.0, 4.0, 2.0, 1.0);
            return out;
        }
    }
    let half_px = u.a.xy * 0.5;
    var centre: vec2<f32>;
    var radius_px = u.c.z * u.a.z;
    var depth = 0.5;
    if (u.a.w < 0.5) {
        centre = pos.xy * u.b.xy + u.b.zw;
    } else {
        let cy = u.d.x; let sy = u.d.y; let cp = u.d.z; let sp = u.d.w;
        let x = cy * pos.x + sy * pos.z;
        let z0 = -sy * pos.x + cy * pos.z;
        let y = cp * pos.y - sp * z0;
        let z = sp * pos.y + cp * z0;
        let persp = u.c.y / max(u.c.y - z, 1e-3);
        centre = vec2<f32>(x, y) * u.c.x * persp * u.a.z / half_px;
        let near = clamp((z + 1.0) * 0.5, 0.0, 1.0);
        radius_px = (1.6 + 1.8 * persp * near) * u.a.z;
        out.colour = vec4<f32>(colour.rgb * (0.45 + 0.55 * near), colour.a);
        depth = clamp(0.5 - z * 0.1, 0.0, 1.0);
    }
    out.clip = vec4<f32>(centre + out.corner * radius_px / half_px, depth, 1.0);
    return out;
}

@fragment
fn fs_main(i: Out) -> @location(0) vec4<f32> {
    if (dot(i.corner, i.corner) > 1.0) {
        discard;
    }
    if (u.c.w > 0.5) {
        // egui's colours are sRGB-encoded; an sRGB target encodes again on write.
        return vec4<f32>(pow(i.colour.rgb, vec3<f32>(2.2)), i.colour.a);
    }
    return i.colour;
}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use egui_wgpu::CallbackTrait;

    /// wgpu's futures on native resolve at once; this polls one to its end.
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::yield_now();
        }
    }

    const SIZE: u32 = 64;

    /// Runs `draws` into a `SIZE`² RGBA target as the window's pass would (a depth buffer,
    /// the viewport set to the callback's rectangle); the pixels, row by row. `None` where
    /// this machine has no adapter at all (CI has Mesa's software Vulkan).
    fn render(draws: &[Draw]) -> Option<Vec<[u8; 4]>> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
        let adapter = block_on(instance.request_adapter(&Default::default())).ok()?;
        let (device, queue) = block_on(adapter.request_device(&Default::default())).ok()?;
        let format = wgpu::TextureFormat::Rgba8Unorm;
        let target = |format, usage| {
            device.create_texture(&wgpu::TextureDescriptor {
                label: None,
                size: wgpu::Extent3d {
                    width: SIZE,
                    height: SIZE,
                    depth_or_array_layers: 1,
                },
                mip_level_count: 1,
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage,
                view_formats: &[],
            })
        };
        let colour = target(
            format,
            wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
        );
        let depth = target(
            egui_wgpu::depth_format_from_bits(DEPTH_BITS, 0)?,
            wgpu::TextureUsages::RENDER_ATTACHMENT,
        );
        let mut res = egui_wgpu::CallbackResources::default();
        res.insert(resources(&device, format));
        let screen = egui_wgpu::ScreenDescriptor {
            size_in_pixels: [SIZE, SIZE],
            pixels_per_point: 1.0,
        };
        let mut encoder = device.create_command_encoder(&Default::default());
        for d in draws {
            d.prepare(&device, &queue, &screen, &mut encoder, &mut res);
        }
        let (colour_view, depth_view) = (
            colour.create_view(&Default::default()),
            depth.create_view(&Default::default()),
        );
        let mut pass = encoder
            .begin_render_pass(&wgpu::RenderPassDescriptor {
                label: None,
                color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                    view: &colour_view,
                    depth_slice: None,
                    resolve_target: None,
                    ops: wgpu::Operations {
                        load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                        store: wgpu::StoreOp::Store,
                    },
                })],
                depth_stencil_attachment: Some(wgpu::RenderPassDepthStencilAttachment {
                    view: &depth_view,
                    depth_ops: Some(wgpu::Operations {
                        load: wgpu::LoadOp::Clear(1.0),
                        store: wgpu::StoreOp::Discard,
                    }),
                    stencil_ops: None,
                }),
                timestamp_writes: None,
                occlusion_query_set: None,
                multiview_mask: None,
            })
            .forget_lifetime();
        let rect = Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(SIZE as f32, SIZE as f32));
        for d in draws {
            pass.set_viewport(0.0, 0.0, SIZE as f32, SIZE as f32, 0.0, 1.0);
            let info = egui::PaintCallbackInfo {
                viewport: rect,
                clip_rect: rect,
                pixels_per_point: 1.0,
                screen_size_px: [SIZE, SIZE],
            };
            d.paint(info, &mut pass, &res);
        }
        drop(pass);
        let bytes = (SIZE * SIZE * 4) as u64;
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        encoder.copy_texture_to_buffer(
            colour.as_image_copy(),
            wgpu::TexelCopyBufferInfo {
                buffer: &readback,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(SIZE * 4),
                    rows_per_image: None,
                },
            },
            wgpu::Extent3d {
                width: SIZE,
                height: SIZE,
                depth_or_array_layers: 1,
            },
        );
        queue.submit([encoder.finish()]);
        readback.slice(..).map_async(wgpu::MapMode::Read, |_| {});
        device.poll(wgpu::PollType::wait_indefinitely()).ok()?;
        let data = readback.slice(..).get_mapped_range().ok()?;
        Some(
            data.chunks_exact(4)
                .map(|c| [c[0], c[1], c[2], c[3]])
                .collect(),
        )
    }

    fn draw(points: &[([f32; 3], Color32, usize)], camera: Camera, hidden: &[usize]) -> Draw {
        let mut buffer = PointBuffer::default();
        buffer.set(points.iter().copied());
        Draw {
            buffer,
            camera,
            mask: mask(hidden),
            rect: Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(SIZE as f32, SIZE as f32)),
        }
    }

    fn at(pixels: &[[u8; 4]], x: f32, y: f32) -> [u8; 4] {
        pixels[y as usize * SIZE as usize + x as usize]
    }

    /// `unorbit` undoes `orbit`: a point turned by the camera and turned back is where it was.
    #[test]
    fn unorbit_undoes_the_orbit() {
        for (p, yaw, pitch) in [([0.8, 0.3, 0.2], 0.6, 0.35), ([-1.2, 0.5, 0.9], -2.0, 1.4)] {
            let (offset, depth, _) = orbit(p, yaw, pitch, 3.5);
            let back = unorbit(offset, depth, yaw, pitch);
            for k in 0..3 {
                assert!((back[k] - p[k]).abs() < 1e-5, "{p:?} came back as {back:?}");
            }
        }
    }

    const RED: Color32 = Color32::from_rgb(255, 0, 0);
    const BLUE: Color32 = Color32::from_rgb(0, 0, 255);

    /// The shader places points where the views' own sums put them (a 2-D plot's bounds, the
    /// 3-D orbit camera), hides the groups the legend hides, and in 3-D the nearer of two
    /// points at one place covers the farther whatever their order.
    #[test]
    fn the_gpu_draws_points_where_the_views_place_them() {
        let plot = Camera::Plot {
            min: [-1.0, -1.0],
            max: [1.0, 1.0],
            radius: 3.0,
        };
        let Some(pixels) = render(&[draw(&[([0.25, -0.5, 0.0], RED, 0)], plot, &[])]) else {
            eprintln!("no wgpu adapter on this machine: the GPU points are not checked");
            return;
        };
        // x from -1..1 over 64 pixels rightwards, y upwards: (0.25, -0.5) is at (40, 48).
        assert_eq!(at(&pixels, 40.0, 48.0), [255, 0, 0, 255]);
        assert_eq!(at(&pixels, 40.0, 16.0), [0, 0, 0, 255], "mirrored");
        assert_eq!(at(&pixels, 20.0, 48.0), [0, 0, 0, 255]);
        let lit = pixels.iter().filter(|p| p[0] > 0).count();
        assert!(
            (12..=40).contains(&lit),
            "a disc of radius 3 lit {lit} pixels"
        );
        let hidden = render(&[draw(&[([0.25, -0.5, 0.0], RED, 7)], plot, &[7])]).unwrap();
        assert!(hidden.iter().all(|p| p[0] == 0), "a hidden group was drawn");

        // 3-D: the CPU's sums for where a point lands, and two points at one place.
        let (yaw, pitch, scale, eye) = (0.6, 0.35, 20.0, 3.5);
        let orbit_camera = Camera::Orbit {
            yaw,
            pitch,
            scale,
            distance: eye,
        };
        let p = [0.8, 0.3, 0.2];
        let ([x, y], _, persp) = orbit(p, yaw, pitch, eye);
        let (sx, sy) = (32.0 + x * scale * persp, 32.0 - y * scale * persp);
        let pixels = render(&[draw(&[(p, BLUE, 0)], orbit_camera, &[])]).unwrap();
        assert!(at(&pixels, sx, sy)[2] > 100, "nothing at ({sx}, {sy})");
        assert_eq!(at(&pixels, 64.0 - sx, sy)[2], 0);
        // On the eye's axis: (0, 0, ±0.5) turned back to the cloud's space.
        let on_axis = |depth: f32| {
            let (s, c) = (yaw.sin(), yaw.cos());
            let (sp, cp) = (pitch.sin(), pitch.cos());
            let (y0, z0) = (sp * depth, cp * depth);
            [-s * z0, y0, c * z0]
        };
        let (near, far) = (on_axis(0.5), on_axis(-0.5));
        assert!(orbit(near, yaw, pitch, eye).1 > orbit(far, yaw, pitch, eye).1);
        for order in [
            [(near, RED, 0), (far, BLUE, 0)],
            [(far, BLUE, 0), (near, RED, 0)],
        ] {
            let pixels = render(&[draw(&order, orbit_camera, &[])]).unwrap();
            let centre = at(&pixels, 32.0, 32.0);
            assert!(
                centre[0] > 100 && centre[2] == 0,
                "{centre:?}: the far point shows"
            );
        }
    }
}

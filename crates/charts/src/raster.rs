//! A small software rasterizer for epaint's tessellated meshes: textured, vertex-coloured
//! triangles in premultiplied sRGB, blended the way egui's GPU back-ends blend
//! (`src + dst * (1 - src_alpha)`, in gamma space), cut by each primitive's clip rectangle.
//!
//! Anti-aliasing comes from the meshes themselves: epaint feathers every edge with a one-pixel
//! ramp of vertex alpha, so one sample per pixel centre is enough. Shared triangle edges follow
//! a fill rule (a pixel centre exactly on an edge belongs to one side only), so the two halves
//! of a translucent quad never blend twice along their diagonal.

use std::collections::HashMap;

use egui::epaint::{ClippedPrimitive, Primitive, TextureId, Vertex, textures::TexturesDelta};

use crate::ChartError;

/// A texture in premultiplied RGBA, each channel in [0, 1].
struct Texture {
    width: usize,
    height: usize,
    texels: Vec<[f32; 4]>,
}

impl Texture {
    /// Bilinear sample at normalised `uv`, clamped to the edges.
    fn sample(&self, u: f32, v: f32) -> [f32; 4] {
        let x = (u * self.width as f32 - 0.5).clamp(0.0, (self.width - 1) as f32);
        let y = (v * self.height as f32 - 0.5).clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let at = |x: usize, y: usize| self.texels[y * self.width + x];
        let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
        std::array::from_fn(|i| {
            let top = a[i] + (b[i] - a[i]) * fx;
            let bottom = c[i] + (d[i] - c[i]) * fx;
            top + (bottom - top) * fy
        })
    }
}

/// The textures egui asked for (in practice: the font atlas, which also holds the white texel
/// that untextured shapes sample).
#[derive(Default)]
pub(crate) struct Textures(HashMap<TextureId, Texture>);

impl Textures {
    /// Applies a frame's texture changes: whole images and patches.
    pub(crate) fn apply(&mut self, delta: &TexturesDelta) {
        for (id, change) in &delta.set {
            let egui::ImageData::Color(image) = &change.image;
            let [w, h] = image.size;
            let texels = image.pixels.iter().map(|c| unit(c.to_array()));
            match change.pos {
                None => {
                    self.0.insert(
                        *id,
                        Texture {
                            width: w,
                            height: h,
                            texels: texels.collect(),
                        },
                    );
                }
                Some([x0, y0]) => {
                    let Some(texture) = self.0.get_mut(id) else {
                        continue;
                    };
                    for (i, texel) in texels.enumerate() {
                        let (x, y) = (x0 + i % w.max(1), y0 + i / w.max(1));
                        if x < texture.width && y < texture.height {
                            texture.texels[y * texture.width + x] = texel;
                        }
                    }
                }
            }
        }
        for id in &delta.free {
            self.0.remove(id);
        }
    }
}

fn unit(c: [u8; 4]) -> [f32; 4] {
    c.map(|v| f32::from(v) / 255.0)
}

/// An opaque RGB picture being painted.
pub(crate) struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<[f32; 3]>,
}

/// A clip rectangle in whole pixels, `[min, max)`.
#[derive(Clone, Copy)]
struct Clip {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl Canvas {
    /// A canvas of `width` x `height` pixels filled with `background`.
    pub(crate) fn new(width: usize, height: usize, background: egui::Color32) -> Self {
        let [r, g, b, _] = unit(background.to_array());
        Canvas {
            width,
            height,
            pixels: vec![[r, g, b]; width * height],
        }
    }

    /// Paints tessellated primitives whose positions are in points (`pixels_per_point` apart).
    pub(crate) fn paint(
        &mut self,
        primitives: &[ClippedPrimitive],
        pixels_per_point: f32,
        textures: &Textures,
    ) {
        for p in primitives {
            let Primitive::Mesh(mesh) = &p.primitive else {
                continue; // No paint callbacks in a chart.
            };
            let Some(texture) = textures.0.get(&mesh.texture_id) else {
                continue;
            };
            let edge =
                |v: f32, max: usize| ((v * pixels_per_point).round().max(0.0) as usize).min(max);
            let clip = Clip {
                x0: edge(p.clip_rect.min.x, self.width),
                y0: edge(p.clip_rect.min.y, self.height),
                x1: edge(p.clip_rect.max.x, self.width),
                y1: edge(p.clip_rect.max.y, self.height),
            };
            if clip.x0 >= clip.x1 || clip.y0 >= clip.y1 {
                continue;
            }
            for tri in mesh.indices.chunks_exact(3) {
                let get = |i: u32| mesh.vertices.get(i as usize);
                if let (Some(a), Some(b), Some(c)) = (get(tri[0]), get(tri[1]), get(tri[2])) {
                    self.triangle([a, b, c], pixels_per_point, clip, texture);
                }
            }
        }
    }

    fn triangle(&mut self, v: [&Vertex; 3], ppp: f32, clip: Clip, texture: &Texture) {
        let mut p = v.map(|v| [f64::from(v.pos.x * ppp), f64::from(v.pos.y * ppp)]);
        let mut v = v;
        let area = edge(p[0], p[1], p[2]);
        if !area.is_finite() || area.abs() < 1e-9 {
            return;
        }
        if area < 0.0 {
            p.swap(1, 2);
            v.swap(1, 2);
        }
        let area = area.abs();
        let min_x = p.iter().map(|q| q[0]).fold(f64::INFINITY, f64::min);
        let max_x = p.iter().map(|q| q[0]).fold(f64::NEG_INFINITY, f64::max);
        let min_y = p.iter().map(|q| q[1]).fold(f64::INFINITY, f64::min);
        let max_y = p.iter().map(|q| q[1]).fold(f64::NEG_INFINITY, f64::max);
        let x0 = (min_x.floor().max(0.0) as usize).max(clip.x0);
        let x1 = (max_x.ceil().max(0.0) as usize).min(clip.x1);
        let y0 = (min_y.floor().max(0.0) as usize).max(clip.y0);
        let y1 = (max_y.ceil().max(0.0) as usize).min(clip.y1);
        if x0 >= x1 || y0 >= y1 {
            return;
        }
        let colour = v.map(|v| unit(v.color.to_array()));
        let uv = v.map(|v| [v.uv.x, v.uv.y]);
        // Untextured shapes all sample the atlas's one white texel: sample it once.
        let flat_texel =
            (uv[0] == uv[1] && uv[1] == uv[2]).then(|| texture.sample(uv[0][0], uv[0][1]));
        let flat_colour = colour[0] == colour[1] && colour[1] == colour[2];
        let owns = [owns(p[1], p[2]), owns(p[2], p[0]), owns(p[0], p[1])];
        for y in y0..y1 {
            let py = y as f64 + 0.5;
            let row = y * self.width;
            for x in x0..x1 {
                let q = [x as f64 + 0.5, py];
                let w = [
                    edge(p[1], p[2], q),
                    edge(p[2], p[0], q),
                    edge(p[0], p[1], q),
                ];
                if (0..3).any(|i| w[i] < 0.0 || (w[i] == 0.0 && !owns[i])) {
                    continue;
                }
                let b = w.map(|w| (w / area) as f32);
                let mut src = if flat_colour {
                    colour[0]
                } else {
                    std::array::from_fn(|i| {
                        colour[0][i] * b[0] + colour[1][i] * b[1] + colour[2][i] * b[2]
                    })
                };
                let texel = match flat_texel {
                    Some(t) => t,
                    None => texture.sample(
                        uv[0][0] * b[0] + uv[1][0] * b[1] + uv[2][0] * b[2],
                        uv[0][1] * b[0] + uv[1][1] * b[1] + uv[2][1] * b[2],
                    ),
                };
                for i in 0..4 {
                    src[i] *= texel[i];
                }
                if src[3] <= 0.0 && src[0] <= 0.0 && src[1] <= 0.0 && src[2] <= 0.0 {
                    continue;
                }
                let dst = &mut self.pixels[row + x];
                let keep = 1.0 - src[3];
                for i in 0..3 {
                    dst[i] = (src[i] + dst[i] * keep).clamp(0.0, 1.0);
                }
            }
        }
    }

    /// The picture as a PNG (8-bit RGB), tagged sRGB and with its density (`pixels_per_point`
    /// times 72 dpi), so viewers that read it show a 2x image at its size in points.
    pub(crate) fn to_png(&self, pixels_per_point: f32) -> Result<Vec<u8>, ChartError> {
        let mut out = Vec::with_capacity(self.width * self.height / 4);
        let mut encoder = png::Encoder::new(&mut out, self.width as u32, self.height as u32);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        encoder.set_source_srgb(png::SrgbRenderingIntent::Perceptual);
        // 72 dpi per point = 2834.6 pixels per metre per point.
        let ppm = (2834.6 * pixels_per_point).round() as u32;
        encoder.set_pixel_dims(Some(png::PixelDimensions {
            xppu: ppm,
            yppu: ppm,
            unit: png::Unit::Meter,
        }));
        let bytes: Vec<u8> = self
            .pixels
            .iter()
            .flat_map(|px| px.map(|c| (c * 255.0).round() as u8))
            .collect();
        let mut writer = encoder
            .write_header()
            .map_err(|e| ChartError::Encode(e.to_string()))?;
        writer
            .write_image_data(&bytes)
            .map_err(|e| ChartError::Encode(e.to_string()))?;
        writer
            .finish()
            .map_err(|e| ChartError::Encode(e.to_string()))?;
        Ok(out)
    }
}

/// Twice the signed area of `(a, b, q)`: positive on one side of `a -> b`, zero on it.
fn edge(a: [f64; 2], b: [f64; 2], q: [f64; 2]) -> f64 {
    (b[0] - a[0]) * (q[1] - a[1]) - (b[1] - a[1]) * (q[0] - a[0])
}

/// Whether a pixel centre exactly on edge `a -> b` belongs to this triangle. Two triangles
/// sharing an edge walk it in opposite directions, so exactly one of them owns it.
fn owns(a: [f64; 2], b: [f64; 2]) -> bool {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    dy > 0.0 || (dy == 0.0 && dx > 0.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use egui::epaint::{Mesh, Pos2, Rect};
    use egui::{Color32, ImageData, TextureOptions, epaint::ImageDelta};

    fn white_texture() -> Textures {
        let mut t = Textures::default();
        let delta = TexturesDelta {
            set: vec![(
                TextureId::default(),
                ImageDelta::full(
                    ImageData::Color(std::sync::Arc::new(egui::ColorImage::new(
                        [1, 1],
                        vec![Color32::WHITE],
                    ))),
                    TextureOptions::LINEAR,
                ),
            )],
            free: vec![],
        };
        t.apply(&delta);
        t
    }

    #[test]
    fn a_translucent_quad_covers_each_pixel_once() {
        let textures = white_texture();
        let mut canvas = Canvas::new(8, 8, Color32::WHITE);
        let mut mesh = Mesh::default();
        // Half-transparent black, premultiplied.
        mesh.add_colored_rect(
            Rect::from_min_max(Pos2::new(1.0, 1.0), Pos2::new(7.0, 7.0)),
            Color32::from_black_alpha(128),
        );
        let prim = ClippedPrimitive {
            clip_rect: Rect::EVERYTHING,
            primitive: Primitive::Mesh(mesh),
        };
        canvas.paint(&[prim], 1.0, &textures);
        let inside: Vec<f32> = (1..7)
            .flat_map(|y| (1..7).map(move |x| (x, y)))
            .map(|(x, y)| canvas.pixels[y * 8 + x][0])
            .collect();
        let first = inside[0];
        assert!((first - 127.0 / 255.0).abs() < 0.01, "{first}");
        assert!(
            inside.iter().all(|v| (v - first).abs() < 1e-6),
            "no seam on the diagonal"
        );
        assert_eq!(canvas.pixels[0], [1.0, 1.0, 1.0], "outside untouched");
        assert_eq!(canvas.pixels[7 * 8 + 7], [1.0, 1.0, 1.0]);
    }

    #[test]
    fn the_clip_rectangle_cuts() {
        let textures = white_texture();
        let mut canvas = Canvas::new(8, 8, Color32::WHITE);
        let mut mesh = Mesh::default();
        mesh.add_colored_rect(
            Rect::from_min_max(Pos2::new(0.0, 0.0), Pos2::new(4.0, 4.0)),
            Color32::BLACK,
        );
        let prim = ClippedPrimitive {
            clip_rect: Rect::from_min_max(Pos2::new(0.0, 0.0), Pos2::new(1.0, 4.0)),
            primitive: Primitive::Mesh(mesh),
        };
        // Two pixels per point: the clip is two pixels wide, the rect eight.
        canvas.paint(&[prim], 2.0, &textures);
        assert_eq!(canvas.pixels[0], [0.0, 0.0, 0.0]);
        assert_eq!(canvas.pixels[1], [0.0, 0.0, 0.0]);
        assert_eq!(canvas.pixels[2], [1.0, 1.0, 1.0]);
        assert_eq!(canvas.pixels[7 * 8], [0.0, 0.0, 0.0]);
    }
}

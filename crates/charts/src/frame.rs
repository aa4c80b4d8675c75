//! One egui frame run without a window: a fixed screen in points, [`PIXELS_PER_POINT`] pixels
//! per point, no pointer; its shapes tessellated by epaint and painted by `raster.rs`.

use egui::{Color32, Pos2, RawInput, Rect, Vec2, ViewportId};

use crate::ChartError;
use crate::raster::{Canvas, Textures};

/// Pixel density of every image: 2 pixels per point, sharp on high-density screens and in print.
pub const PIXELS_PER_POINT: f32 = 2.0;

/// A painted frame.
pub(crate) struct Painted<R> {
    pub(crate) png: Vec<u8>,
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// What the frame's closure returned (on the last pass egui ran).
    pub(crate) inner: R,
}

/// An egui context kept across images, so fonts are loaded and the glyph atlas is filled once.
pub(crate) struct Renderer {
    ctx: egui::Context,
    textures: Textures,
}

impl Renderer {
    pub(crate) fn new() -> Self {
        let ctx = egui::Context::default();
        ctx.set_visuals(crate::charts::visuals());
        Renderer {
            ctx,
            textures: Textures::default(),
        }
    }

    /// Runs `draw` in a central panel of `size` points on `background` and paints the result.
    pub(crate) fn paint<R>(
        &mut self,
        size: Vec2,
        background: Color32,
        mut draw: impl FnMut(&mut egui::Ui) -> R,
    ) -> Result<Painted<R>, ChartError> {
        let mut input = RawInput {
            screen_rect: Some(Rect::from_min_size(Pos2::ZERO, size)),
            max_texture_side: Some(8192),
            ..RawInput::default()
        };
        input
            .viewports
            .entry(ViewportId::ROOT)
            .or_default()
            .native_pixels_per_point = Some(PIXELS_PER_POINT);
        let mut inner = None;
        let output = self.ctx.run(input, |ctx| {
            egui::CentralPanel::default()
                .frame(egui::Frame::new().fill(background).inner_margin(16.0))
                .show(ctx, |ui| inner = Some(draw(ui)));
        });
        let inner = inner.ok_or(ChartError::NoPlot)?;
        self.textures.apply(&output.textures_delta);
        let ppp = output.pixels_per_point;
        let primitives = self.ctx.tessellate(output.shapes, ppp);
        let (width, height) = (
            (size.x * ppp).round() as usize,
            (size.y * ppp).round() as usize,
        );
        let mut canvas = Canvas::new(width, height, background);
        canvas.paint(&primitives, ppp, &self.textures);
        Ok(Painted {
            png: canvas.to_png(ppp)?,
            width: width as u32,
            height: height as u32,
            inner,
        })
    }
}

//! Scatter plots in panels (samples of a generative model over training, two-dimensional embeddings coloured by
//! class), drawn with `plotters` into one PNG with the bundled font.

use std::error::Error;
use std::ops::Range;
use std::path::Path;

use plotters::prelude::*;

use crate::plot::{FAMILY, ensure_font};

/// Side in pixels of one panel of [`save_scatter`].
pub const PANEL_SIZE: u32 = 480;

/// Ten distinguishable colours (the classes of a digit dataset), from the Tableau 10 palette.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// One panel: a caption, the points, optionally a class per point (its colour, modulo [`PALETTE`]), and marks
/// drawn over the points (the modes of the data, say).
pub struct ScatterPanel<'a> {
    /// The caption above the panel.
    pub caption: String,
    /// `(x, y)` of every point.
    pub points: &'a [(f32, f32)],
    /// The class of each point, or `None` for one colour.
    pub classes: Option<&'a [usize]>,
    /// Marked positions, drawn as red crosses.
    pub marks: &'a [(f32, f32)],
    /// This panel's own axis ranges, instead of the shared ones.
    pub ranges: Option<(Range<f32>, Range<f32>)>,
}

/// Writes `panels` side by side, `columns` to a row, each over the ranges `x` and `y` (or its own), under
/// `title`. When a panel has classes, a legend of the class colours (`0` to `9`) runs under the title.
///
/// # Errors
///
/// If there is no panel, if `path` does not end in `.png`, if a panel's classes do not match its points, or if
/// the file cannot be written.
pub fn save_scatter(
    path: impl AsRef<Path>,
    title: &str,
    panels: &[ScatterPanel<'_>],
    columns: usize,
    x: Range<f32>,
    y: Range<f32>,
) -> Result<(), Box<dyn Error>> {
    let path = path.as_ref();
    if panels.is_empty() || columns == 0 {
        return Err("nothing to plot: no panels".into());
    }
    crate::plot::ensure_png(path)?;
    if let Some(p) = panels.iter().find(|p| p.classes.is_some_and(|c| c.len() != p.points.len())) {
        return Err(
            format!("panel `{}`: {} points but a different number of classes", p.caption, p.points.len()).into()
        );
    }
    ensure_font()?;
    let rows = panels.len().div_ceil(columns);
    let size = (PANEL_SIZE * columns as u32, PANEL_SIZE * rows as u32 + 40);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let body = root.titled(title, (FAMILY, 24))?;
    let classes = panels.iter().filter_map(|p| p.classes).flatten().max().map(|m| m + 1);
    let body = match classes {
        Some(n) => {
            let (strip, rest) = body.split_vertically(28);
            let style = TextStyle::from((FAMILY, 15)).color(&BLACK);
            let width = strip.dim_in_pixel().0 as i32;
            let step = 44;
            let start = (width - step * n.min(PALETTE.len()) as i32) / 2;
            for k in 0..n.min(PALETTE.len()) {
                let x = start + step * k as i32;
                strip.draw(&Circle::new((x, 14), 5, PALETTE[k].filled()))?;
                strip.draw_text(&k.to_string(), &style, (x + 9, 6))?;
            }
            rest
        }
        None => body,
    };
    for (area, panel) in body.split_evenly((rows, columns)).iter().zip(panels) {
        let (px, py) = panel.ranges.clone().unwrap_or((x.clone(), y.clone()));
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.caption, (FAMILY, 16))
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(32)
            .build_cartesian_2d(px, py)?;
        chart.configure_mesh().label_style((FAMILY, 11)).light_line_style(WHITE.mix(0.0)).draw()?;
        chart.draw_series(panel.points.iter().enumerate().map(|(i, &p)| {
            let colour = panel.classes.map_or(PALETTE[0], |c| PALETTE[c[i] % PALETTE.len()]);
            Circle::new(p, 2, colour.mix(0.6).filled())
        }))?;
        chart.draw_series(panel.marks.iter().map(|&p| Cross::new(p, 5, RED.stroke_width(2))))?;
    }
    root.present().map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(())
}

/// Ranges covering `points` with a little margin (the middle 99.5% on each axis, so that a few outliers do not
/// squash the picture), for [`ScatterPanel::ranges`].
///
/// # Panics
///
/// When `points` is empty.
pub fn point_bounds(points: &[(f32, f32)]) -> (Range<f32>, Range<f32>) {
    let range = |mut v: Vec<f32>| {
        v.sort_by(f32::total_cmp);
        let (lo, hi) = (v[v.len() / 400], v[v.len() - 1 - v.len() / 400]);
        let pad = 0.05 * (hi - lo).max(1e-6);
        lo - pad..hi + pad
    };
    (range(points.iter().map(|p| p.0).collect()), range(points.iter().map(|p| p.1).collect()))
}

//! Decision boundaries of two-class classifiers of the plane, drawn as the TensorFlow Playground draws them: the
//! background shaded by the predicted probability of the positive class over a grid (orange for 0, light grey
//! for 1/2, blue for 1), with the training points (white rims) and test points (black rims) over it.

use std::error::Error;
use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::playground_data::Point2;
use crate::plot::{FAMILY, ensure_font};

/// Side in pixels of one panel of [`save_boundaries`].
pub const BOUNDARY_PANEL: u32 = 360;

/// The colour of the negative class (the demo's orange).
pub const NEGATIVE: RGBColor = RGBColor(245, 147, 34);
/// The colour of probability 1/2 (the demo's light grey).
pub const UNDECIDED: RGBColor = RGBColor(232, 234, 235);
/// The colour of the positive class (the demo's blue).
pub const POSITIVE: RGBColor = RGBColor(8, 119, 189);

/// A classifier's probability of the positive class at the centres of a square grid of cells over
/// `[-extent, extent]` on both axes.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbabilityGrid {
    side: usize,
    extent: f32,
    values: Vec<f32>,
}

impl ProbabilityGrid {
    /// Evaluates `probability(x, y)` at the centre of each of `side` x `side` cells covering the square.
    pub fn new(side: usize, extent: f32, mut probability: impl FnMut(f32, f32) -> f32) -> Self {
        let mut values = Vec::with_capacity(side * side);
        for row in 0..side {
            for column in 0..side {
                let (x, y) = Self::centre_of(side, extent, row, column);
                values.push(probability(x, y));
            }
        }
        Self { side, extent, values }
    }

    /// Cells along each axis.
    pub fn side(&self) -> usize {
        self.side
    }

    /// Half the side of the square covered.
    pub fn extent(&self) -> f32 {
        self.extent
    }

    /// The centre `(x, y)` of the cell in `row` (0 at the top, largest `y`) and `column` (0 at the left).
    pub fn centre(&self, row: usize, column: usize) -> (f32, f32) {
        Self::centre_of(self.side, self.extent, row, column)
    }

    fn centre_of(side: usize, extent: f32, row: usize, column: usize) -> (f32, f32) {
        let cell = 2.0 * extent / side as f32;
        (-extent + (column as f32 + 0.5) * cell, extent - (row as f32 + 0.5) * cell)
    }

    /// The probability at the cell in `row` and `column`.
    pub fn at(&self, row: usize, column: usize) -> f32 {
        self.values[row * self.side + column]
    }
}

/// The shade of probability `p`: [`NEGATIVE`] at 0 through [`UNDECIDED`] at 1/2 to [`POSITIVE`] at 1, lightened
/// as the demo's background is so that the points stand out.
pub fn shade(p: f32) -> RGBColor {
    let p = if p.is_nan() { 0.5 } else { p.clamp(0.0, 1.0) };
    let (from, to, t) = if p < 0.5 { (NEGATIVE, UNDECIDED, 2.0 * p) } else { (UNDECIDED, POSITIVE, 2.0 * p - 1.0) };
    let mix = |a: u8, b: u8| {
        let v = f32::from(a) + (f32::from(b) - f32::from(a)) * t;
        // Two thirds of the colour over white.
        (255.0 - (255.0 - v) * 2.0 / 3.0).round() as u8
    };
    RGBColor(mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}

/// One panel: a caption, the shaded probabilities and the points drawn over them.
pub struct BoundaryPanel<'a> {
    /// The caption above the panel (the epoch and the test accuracy, say).
    pub caption: String,
    /// The classifier's probabilities over the panel's square.
    pub grid: &'a ProbabilityGrid,
    /// Training points, drawn with white rims.
    pub train: &'a [Point2],
    /// Test points, drawn with black rims.
    pub test: &'a [Point2],
}

/// Writes `panels` side by side, `columns` to a row, under `title` and a one-line key, into the PNG `path`. Each
/// panel is [`BOUNDARY_PANEL`] pixels square and covers its grid's square.
///
/// # Errors
///
/// If there is no panel or no column, if `path` does not end in `.png`, or if the file cannot be written.
pub fn save_boundaries(
    path: impl AsRef<Path>,
    title: &str,
    panels: &[BoundaryPanel<'_>],
    columns: usize,
) -> Result<(), Box<dyn Error>> {
    let path = path.as_ref();
    if panels.is_empty() || columns == 0 {
        return Err("nothing to plot: no panels".into());
    }
    crate::plot::ensure_png(path)?;
    ensure_font()?;
    let columns = columns.min(panels.len());
    let rows = panels.len().div_ceil(columns);
    let size = (BOUNDARY_PANEL * columns as u32, BOUNDARY_PANEL * rows as u32 + 64);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE)?;
    let body = root.titled(title, (FAMILY, 22))?;
    let (strip, body) = body.split_vertically(30);
    draw_key(&strip)?;
    for (area, panel) in body.split_evenly((rows, columns)).iter().zip(panels) {
        let e = panel.grid.extent;
        let mut chart = ChartBuilder::on(area)
            .caption(&panel.caption, (FAMILY, 15))
            .margin(6)
            .x_label_area_size(20)
            .y_label_area_size(26)
            .build_cartesian_2d(-e..e, -e..e)?;
        chart.configure_mesh().disable_mesh().label_style((FAMILY, 10)).x_labels(7).y_labels(7).draw()?;
        let (side, cell) = (panel.grid.side, 2.0 * e / panel.grid.side as f32);
        chart.draw_series((0..side * side).map(|k| {
            let (x, y) = panel.grid.centre(k / side, k % side);
            let h = cell / 2.0;
            Rectangle::new([(x - h, y + h), (x + h, y - h)], shade(panel.grid.at(k / side, k % side)).filled())
        }))?;
        for (points, rim) in [(panel.train, WHITE), (panel.test, BLACK)] {
            chart.draw_series(points.iter().map(|p| Circle::new((p.x, p.y), 3, rim.filled())))?;
            chart.draw_series(
                points
                    .iter()
                    .map(|p| Circle::new((p.x, p.y), 2, if p.positive { POSITIVE } else { NEGATIVE }.filled())),
            )?;
        }
    }
    root.present().map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(())
}

/// The key under the title: what the colours and the rims mean.
fn draw_key(strip: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<(), Box<dyn Error>> {
    let style = TextStyle::from((FAMILY, 14)).color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    let entries: [(&str, RGBColor, RGBColor); 4] = [
        ("positive", POSITIVE, POSITIVE),
        ("negative", NEGATIVE, NEGATIVE),
        ("training point", UNDECIDED, WHITE),
        ("test point", UNDECIDED, BLACK),
    ];
    let mut widths = Vec::with_capacity(entries.len());
    for (name, ..) in entries {
        widths.push(strip.estimate_text_size(name, &style)?.0 as i32);
    }
    let total: i32 = widths.iter().map(|w| w + 40).sum();
    let (width, height) = strip.dim_in_pixel();
    let (mut x, y) = ((width as i32 - total) / 2, height as i32 / 2);
    for ((name, fill, rim), w) in entries.into_iter().zip(widths) {
        strip.draw(&Circle::new((x + 6, y), 6, rim.filled()))?;
        strip.draw(&Circle::new((x + 6, y), 6, BLACK.mix(0.3).stroke_width(1)))?;
        strip.draw(&Circle::new((x + 6, y), 4, fill.filled()))?;
        strip.draw_text(name, &style, (x + 16, y))?;
        x += w + 40;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn temp_png(tag: &str) -> std::path::PathBuf {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        std::env::temp_dir().join(format!("nn-examples-{tag}-{}-{nanos}.png", std::process::id()))
    }

    #[test]
    fn the_grid_covers_the_square_row_by_row_from_the_top() {
        let grid = ProbabilityGrid::new(4, 6.0, |x, y| if x > 0.0 && y > 0.0 { 1.0 } else { 0.0 });
        assert_eq!((grid.side(), grid.extent()), (4, 6.0));
        assert_eq!(grid.centre(0, 0), (-4.5, 4.5));
        assert_eq!(grid.centre(3, 3), (4.5, -4.5));
        // The positive quadrant is the top right.
        assert_eq!(grid.at(0, 3), 1.0);
        assert_eq!(grid.at(1, 2), 1.0);
        assert_eq!(grid.at(2, 2), 0.0);
        assert_eq!(grid.at(0, 1), 0.0);
    }

    #[test]
    fn shades_run_from_orange_through_grey_to_blue() {
        let (low, mid, high) = (shade(0.0), shade(0.5), shade(1.0));
        // The background is lighter than the points drawn over it.
        assert!(low != NEGATIVE && high != POSITIVE);
        assert!(low.1 > NEGATIVE.1 && high.0 > POSITIVE.0, "{low:?} {high:?}");
        assert!(low.0 > low.2 && high.2 > high.0, "{low:?} {high:?}");
        assert_eq!(mid, shade(f32::NAN));
        assert_eq!(shade(-3.0), low);
        assert_eq!(shade(7.0), high);
        // Bluer (blue less red) as the probability grows.
        let blueness: Vec<i32> = (0..=10)
            .map(|k| {
                let c = shade(k as f32 / 10.0);
                i32::from(c.2) - i32::from(c.0)
            })
            .collect();
        assert!(blueness.windows(2).all(|w| w[0] < w[1]), "{blueness:?}");
    }

    #[test]
    fn writes_a_png_of_the_panels_size() {
        let grid = ProbabilityGrid::new(30, 6.0, |x, y| 1.0 / (1.0 + (-(x * y)).exp()));
        let train = [Point2 { x: 2.0, y: 2.0, positive: true }, Point2 { x: -2.0, y: 2.0, positive: false }];
        let test = [Point2 { x: 3.0, y: -3.0, positive: false }];
        let panel = |caption: &str| BoundaryPanel { caption: caption.into(), grid: &grid, train: &train, test: &test };
        let path = temp_png("boundary");
        save_boundaries(&path, "synthetic", &[panel("a"), panel("b"), panel("c")], 2).expect("plot");
        let bytes = std::fs::read(&path).expect("read the plot back");
        assert_eq!(&bytes[12..16], b"IHDR");
        let be = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        assert_eq!((be(16), be(20)), (2 * BOUNDARY_PANEL, 2 * BOUNDARY_PANEL + 64));
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn no_panels_or_a_wrong_extension_are_errors() {
        let grid = ProbabilityGrid::new(2, 1.0, |_, _| 0.5);
        let panel = BoundaryPanel { caption: String::new(), grid: &grid, train: &[], test: &[] };
        let path = temp_png("empty");
        assert!(save_boundaries(&path, "t", &[], 1).is_err());
        assert!(!path.exists());
        assert!(save_boundaries(path.with_extension("jpg"), "t", &[panel], 1).is_err());
    }
}

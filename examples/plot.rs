//! Training-history charts drawn with `plotters` into PNG files, with a bundled font so that no system font library
//! is needed.

use std::error::Error;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use nn_core::train::EpochStats;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

/// Size in pixels of the image written by [`plot_history`].
pub const PLOT_SIZE: (u32, u32) = (1000, 450);

/// DejaVu Sans (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`).
const FONT: &[u8] = include_bytes!("assets/DejaVuSans.ttf");
pub(crate) const FAMILY: &str = "sans-serif";

const TRAIN_COLOUR: RGBColor = RGBColor(31, 119, 180);
const VALID_COLOUR: RGBColor = RGBColor(230, 110, 20);

/// Registers the bundled font as `sans-serif` the first time it is called.
/// An error naming `path` unless it ends in `.png`.
pub(crate) fn ensure_png(path: &Path) -> Result<(), Box<dyn Error>> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
        return Ok(());
    }
    Err(format!("{}: the plot is written as PNG, so the file name must end in .png", path.display()).into())
}

pub(crate) fn ensure_font() -> Result<(), Box<dyn Error>> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    if *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).is_ok()) {
        Ok(())
    } else {
        Err("the bundled font DejaVuSans.ttf could not be loaded".into())
    }
}

/// Writes a PNG of [`PLOT_SIZE`] pixels to `path` with `title` above two charts: training and validation loss per
/// epoch on the left, training and validation accuracy per epoch on the right.
///
/// Validation points are drawn only for the epochs whose `valid` is `Some`, and the legend, a row under the title
/// shared by both charts, lists validation only if there is some. Loss or accuracy values that are not finite (a
/// diverged run) are left out; the loss axis runs from 0 to just above the largest loss.
///
/// # Errors
///
/// Returns an error, without writing anything, if `epochs` is empty or `path` does not end in `.png`; and an error
/// if the file cannot be written (for instance when its directory does not exist).
pub fn plot_history(path: impl AsRef<Path>, title: &str, epochs: &[EpochStats]) -> Result<(), Box<dyn Error>> {
    let path = path.as_ref();
    if epochs.is_empty() {
        return Err("no epochs to plot: the training history is empty".into());
    }
    ensure_png(path)?;
    ensure_font()?;

    let train_loss: Vec<(usize, f64)> = epochs.iter().map(|s| (s.epoch, s.train.loss)).collect();
    let valid_loss: Vec<(usize, f64)> = epochs.iter().filter_map(|s| s.valid.map(|v| (s.epoch, v.loss))).collect();
    let train_acc: Vec<(usize, f64)> = epochs.iter().map(|s| (s.epoch, s.train.accuracy)).collect();
    let valid_acc: Vec<(usize, f64)> = epochs.iter().filter_map(|s| s.valid.map(|v| (s.epoch, v.accuracy))).collect();

    let first = epochs.iter().map(|s| s.epoch).min().unwrap_or(0);
    let last = epochs.iter().map(|s| s.epoch).max().unwrap_or(0).max(first.saturating_add(1));

    let root = BitMapBackend::new(path, PLOT_SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let body = root.titled(title, (FAMILY, 26))?;
    // One legend for both charts, in a strip of its own so that it never hides a curve.
    let (strip, charts) = body.split_vertically(28);
    let mut entries = vec![("training", TRAIN_COLOUR)];
    if !valid_loss.is_empty() {
        entries.push(("validation", VALID_COLOUR));
    }
    draw_legend(&strip, &entries)?;
    let halves = charts.split_evenly((1, 2));

    // Loss from 0 (or the lowest value, were one negative) to a little above the highest; absurd magnitudes are
    // cut off so that the axis can still be divided into ticks.
    const LIMIT: f64 = 1e300;
    let loss_max = finite_values(&train_loss, &valid_loss).fold(0.0_f64, f64::max);
    let loss_min = finite_values(&train_loss, &valid_loss).fold(0.0_f64, f64::min).max(-LIMIT);
    let loss_top = if loss_max > 0.0 { (loss_max * 1.08).min(LIMIT) } else { 1.0 };
    let y = loss_min..loss_top;
    let panel = Panel { area: &halves[0], epochs: first..last, y, y_desc: "loss", percent: false };
    panel.draw("Loss", &train_loss, &valid_loss)?;

    // Accuracy is a fraction in [0, 1]: start the axis at the tenth below the lowest value so the curves use the
    // height of the chart.
    let acc_min = finite_values(&train_acc, &valid_acc).fold(1.0_f64, f64::min).clamp(0.0, 1.0);
    let acc_bottom = ((acc_min - 0.02) * 10.0).floor().max(0.0) / 10.0;
    let panel = Panel { area: &halves[1], epochs: first..last, y: acc_bottom..1.0, y_desc: "accuracy", percent: true };
    panel.draw("Accuracy", &train_acc, &valid_acc)?;

    root.present().map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(())
}

/// Draws `entries` (a line sample in the series' colour, then its name) in a row centred in `strip`.
fn draw_legend(strip: &Area<'_>, entries: &[(&str, RGBColor)]) -> Result<(), Box<dyn Error>> {
    const SAMPLE: i32 = 28;
    const GAP: i32 = 8;
    const SPACING: i32 = 36;
    let style = TextStyle::from((FAMILY, 16)).color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    let mut widths = Vec::with_capacity(entries.len());
    for (name, _) in entries {
        widths.push(strip.estimate_text_size(name, &style)?.0 as i32);
    }
    let total: i32 = widths.iter().map(|w| SAMPLE + GAP + w).sum::<i32>() + SPACING * (entries.len() as i32 - 1);
    let (width, height) = strip.dim_in_pixel();
    let (mut x, y) = ((width as i32 - total) / 2, height as i32 / 2);
    for ((name, colour), w) in entries.iter().zip(widths) {
        strip.draw(&PathElement::new([(x, y), (x + SAMPLE, y)], colour.stroke_width(3)))?;
        strip.draw(&Circle::new((x + SAMPLE / 2, y), 3, colour.stroke_width(2)))?;
        strip.draw_text(name, &style, (x + SAMPLE + GAP, y))?;
        x += SAMPLE + GAP + w + SPACING;
    }
    Ok(())
}

/// The finite y values of both series.
fn finite_values<'a>(a: &'a [(usize, f64)], b: &'a [(usize, f64)]) -> impl Iterator<Item = f64> + 'a {
    a.iter().chain(b).map(|&(_, y)| y).filter(|y| y.is_finite())
}

/// A region of the bitmap being drawn.
type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// One of the two charts.
struct Panel<'a, 'b> {
    area: &'a Area<'b>,
    epochs: Range<usize>,
    y: Range<f64>,
    y_desc: &'static str,
    percent: bool,
}

impl Panel<'_, '_> {
    fn draw(&self, caption: &str, train: &[(usize, f64)], valid: &[(usize, f64)]) -> Result<(), Box<dyn Error>> {
        let mut chart = ChartBuilder::on(self.area)
            .caption(caption, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(65)
            .build_cartesian_2d(self.epochs.clone(), self.y.clone())?;

        let percent = |v: &f64| format!("{:.0}%", v * 100.0);
        let plain = |v: &f64| if v.abs() < 1e4 { format!("{v:.2}") } else { format!("{v:.1e}") };
        let y_format: &dyn Fn(&f64) -> String = if self.percent { &percent } else { &plain };
        let x_labels = (self.epochs.end - self.epochs.start + 1).min(12);
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(self.y_desc)
            .x_labels(x_labels)
            .y_label_formatter(y_format)
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 16))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.1))
            .draw()?;

        for (points, colour) in [(train, TRAIN_COLOUR), (valid, VALID_COLOUR)] {
            // Values beyond the axis are pinned to its edge: plotters would overflow mapping them to pixels.
            let finite: Vec<(usize, f64)> = points
                .iter()
                .filter(|(_, y)| y.is_finite())
                .map(|&(x, y)| (x, y.clamp(self.y.start, self.y.end)))
                .collect();
            if finite.is_empty() {
                continue;
            }
            // Markers help read a short run; on a long one they only crowd the line.
            let marker = if finite.len() <= 30 { 3 } else { 0 };
            chart.draw_series(LineSeries::new(finite, colour.stroke_width(2)).point_size(marker))?;
        }

        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nn_core::train::Metrics;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn history(n: usize) -> Vec<EpochStats> {
        (1..=n)
            .map(|epoch| {
                let t = epoch as f64;
                let train = Metrics { loss: 2.3 / t.sqrt(), accuracy: 1.0 - 0.9 / t.sqrt() };
                // Validation from epoch 2 on, so that a missing first point is exercised too.
                let valid =
                    (epoch > 1).then(|| Metrics { loss: 2.4 / t.sqrt() + 0.01 * t, accuracy: 1.0 - 1.0 / t.sqrt() });
                EpochStats { epoch, train, valid, lr: None }
            })
            .collect()
    }

    fn temp_png(tag: &str) -> std::path::PathBuf {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        std::env::temp_dir().join(format!("nn-examples-{tag}-{}-{nanos}.png", std::process::id()))
    }

    /// Width and height from the IHDR chunk, which a PNG must start with right after its 8-byte signature.
    fn png_size(bytes: &[u8]) -> (u32, u32) {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG signature");
        assert_eq!(&bytes[12..16], b"IHDR", "first chunk is not IHDR");
        let be = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        (be(16), be(20))
    }

    #[test]
    fn writes_a_png_of_the_documented_size() {
        let path = temp_png("history");
        plot_history(&path, "Synthetic run: 12 epochs", &history(12)).expect("plot");
        let bytes = std::fs::read(&path).expect("read the plot back");
        assert_eq!(png_size(&bytes), PLOT_SIZE);
        assert!(bytes.len() > 8 * 1024, "suspiciously small PNG: {} bytes", bytes.len());
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn odd_histories_plot_without_panicking() {
        let path = temp_png("odd");
        // One epoch, no validation at all.
        plot_history(&path, "one epoch", &history(1)).expect("single epoch");
        // A diverged run: non-finite values are skipped.
        let mut h = history(5);
        h[3].train.loss = f64::NAN;
        h[4].train.loss = f64::INFINITY;
        plot_history(&path, "diverged", &h).expect("non-finite values");
        // Extreme but finite values, an empty title and epochs that do not start at 1.
        let mut h = history(4);
        h[0].train.loss = f64::MAX;
        h[1].train.loss = -f64::MAX;
        for (i, s) in h.iter_mut().enumerate() {
            s.epoch = 100 + i;
        }
        plot_history(&path, "", &h).expect("extreme values");
        std::fs::remove_file(&path).ok();
    }

    #[test]
    fn empty_history_is_an_error() {
        let path = temp_png("empty");
        let err = plot_history(&path, "empty", &[]).expect_err("empty history");
        assert!(err.to_string().contains("no epochs"), "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn unwritable_or_non_png_paths_are_errors() {
        let dir = temp_png("missing-dir").with_extension("");
        assert!(plot_history(dir.join("plot.png"), "t", &history(3)).is_err());
        assert!(plot_history(temp_png("wrong-ext").with_extension("jpg"), "t", &history(3)).is_err());
    }
}

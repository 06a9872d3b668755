//! Grids of greyscale images as PNG files.

use plotters::prelude::*;
use std::error::Error;
use std::path::Path;

/// Writes `rows` of greyscale images (each `height x width` values in `[0, 1]`, row-major) as one PNG, each
/// pixel drawn as a `scale x scale` square and a 2-pixel gap between images. Values outside `[0, 1]` are
/// clamped. Every image must have `width * height` values.
pub fn save_image_grid(
    path: impl AsRef<Path>,
    rows: &[Vec<&[f32]>],
    width: usize,
    height: usize,
    scale: usize,
) -> Result<(), Box<dyn Error>> {
    let path = path.as_ref();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    if rows.is_empty() || columns == 0 || width == 0 || height == 0 || scale == 0 {
        return Err("no images to draw".into());
    }
    if let Some(bad) = rows.iter().flatten().find(|img| img.len() != width * height) {
        return Err(format!("an image has {} values, expected {width} x {height}", bad.len()).into());
    }
    let gap = 2;
    let (cell_w, cell_h) = (width * scale + gap, height * scale + gap);
    let size = ((columns * cell_w + gap) as u32, (rows.len() * cell_h + gap) as u32);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&RGBColor(40, 40, 40))?;
    for (r, row) in rows.iter().enumerate() {
        for (c, img) in row.iter().enumerate() {
            let (x0, y0) = (gap + c * cell_w, gap + r * cell_h);
            for y in 0..height {
                for x in 0..width {
                    let v = (img[y * width + x].clamp(0.0, 1.0) * 255.0).round() as u8;
                    let (px, py) = ((x0 + x * scale) as i32, (y0 + y * scale) as i32);
                    root.draw(&Rectangle::new(
                        [(px, py), (px + scale as i32, py + scale as i32)],
                        RGBColor(v, v, v).filled(),
                    ))?;
                }
            }
        }
    }
    root.present().map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_png_of_the_right_size_and_refuses_bad_images() {
        let path = std::env::temp_dir().join(format!("nn-grid-{}.png", std::process::id()));
        let a: Vec<f32> = (0..12).map(|i| i as f32 / 11.0).collect();
        let rows = vec![vec![&a[..], &a[..]], vec![&a[..]]];
        save_image_grid(&path, &rows, 4, 3, 2).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (w, h) = (
            u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
            u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
        );
        assert_eq!((w, h), (2 * (4 * 2 + 2) + 2, 2 * (3 * 2 + 2) + 2));
        std::fs::remove_file(&path).unwrap();
        let short = [0.0f32; 5];
        assert!(save_image_grid(&path, &[vec![&short[..]]], 4, 3, 2).is_err());
        assert!(save_image_grid(&path, &[], 4, 3, 2).is_err());
    }
}

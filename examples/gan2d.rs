//! A GAN on a ring of eight two-dimensional Gaussians (radius 2, standard deviation 0.05), the classic test of
//! mode coverage: a generator from four noise values to a point, a discriminator from a point to a logit, the
//! course's losses (the non-saturating generator loss), Adam on both. Prints the losses and how many modes the
//! samples cover as training goes, and writes the samples at six moments of training, with the modes marked,
//! to `gan2d.png` (in `target/nn-examples/`, or `--out DIR`).
//!
//! ```text
//! cargo run --release --example gan2d
//! ```

use nn_examples::{MODES, ScatterPanel, mode, mode_counts, modes_covered, save_scatter, train_gan2d};

const STEPS: usize = 20_000;
const SNAPSHOTS: usize = 5;
const SAMPLES: usize = 2_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let run = train_gan2d(7, STEPS, SNAPSHOTS, SAMPLES);
    println!("{:>6}  {:>8}  {:>8}  {:>6}  samples per mode (within 3 sd)", "step", "L_D", "L_G", "modes");
    for (step, points) in &run.snapshots {
        let losses = run.losses.iter().find(|(s, ..)| s == step);
        let (ld, lg) = losses.map_or((f32::NAN, f32::NAN), |&(_, d, g)| (d, g));
        let covered = modes_covered(points, 0.02);
        println!("{step:>6}  {ld:>8.4}  {lg:>8.4}  {covered:>4}/{MODES}  {:?}", mode_counts(points));
    }
    let marks: Vec<(f32, f32)> = (0..MODES).map(|k| (mode(k).x, mode(k).y)).collect();
    let points: Vec<Vec<(f32, f32)>> =
        run.snapshots.iter().map(|(_, p)| p.iter().map(|v| (v.x, v.y)).collect()).collect();
    let panels: Vec<ScatterPanel<'_>> = run
        .snapshots
        .iter()
        .zip(&points)
        .map(|((step, _), p)| ScatterPanel {
            caption: format!("step {step}"),
            points: p,
            classes: None,
            marks: &marks,
            ranges: None,
        })
        .collect();
    let plot = nn_examples::paths::output("gan2d.png")?;
    save_scatter(&plot, "GAN samples over training (red: the eight modes)", &panels, 3, -3.0..3.0, -3.0..3.0)?;
    println!("wrote {}", plot.display());
    let last = &run.snapshots.last().ok_or("no snapshot")?.1;
    let covered = modes_covered(last, 0.02);
    println!("final: {covered} of {MODES} modes covered by at least 2% of {SAMPLES} samples");
    if covered < MODES - 1 {
        return Err(format!("only {covered} of {MODES} modes covered").into());
    }
    Ok(())
}

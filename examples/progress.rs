//! A progress bar for `Trainer` runs that report a loss per epoch.

use indicatif::{ProgressBar, ProgressStyle};
use nn_core::train::Progress;
use std::error::Error;

/// A bar over a run's batches, with the running loss beside it and one printed line per epoch (training and
/// validation loss, under the name `metric`). Drive it from `Trainer::on_progress(|p| bar.update(p))`.
pub struct EpochBar {
    bar: ProgressBar,
    metric: &'static str,
}

impl EpochBar {
    /// A bar over `batches` batches in all.
    ///
    /// # Errors
    ///
    /// If the bar's template does not parse (it is fixed, so never in practice).
    pub fn new(batches: usize, metric: &'static str) -> Result<Self, Box<dyn Error>> {
        let bar = ProgressBar::new(batches as u64);
        bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} batches  {msg}")?);
        Ok(Self { bar, metric })
    }

    /// Advances on a batch; prints a line at the end of an epoch.
    pub fn update(&self, p: &Progress) {
        match p {
            Progress::Batch { epoch, loss, .. } => {
                self.bar.set_message(format!("epoch {epoch}  {} {loss:.5}", self.metric));
                self.bar.inc(1);
            }
            Progress::Epoch(s) => self.bar.suspend(|| {
                let v = s.valid.map_or(f64::NAN, |v| v.loss);
                println!("epoch {:>2}  train {m} {:.5}  valid {m} {v:.5}", s.epoch, s.train.loss, m = self.metric);
            }),
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

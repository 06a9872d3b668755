//! `Residual(LAYER, ..., project = LAYER)`: a branch of layers whose output is added to its input (or to the
//! input's projection). Code generation wires the branch; this file has its rule and its descriptions.

use super::LayerKind;
use crate::model::Layer;

/// A residual block.
pub struct Residual {
    /// The branch's layers.
    pub branch: Vec<Layer>,
    /// The layer the input goes through before it is added, if any.
    pub projection: Option<Box<Layer>>,
}

impl LayerKind for Residual {
    fn describe_short(&self, l: &Layer) -> String {
        format!(
            "{} Residual({}{})",
            l.name,
            self.branch.iter().map(|b| b.kind.describe_short(b)).collect::<Vec<_>>().join(" -> "),
            self.projection.as_ref().map_or(String::new(), |p| format!(", project = {}", p.kind.describe_short(p)))
        )
    }

    fn describe(&self, l: &Layer) -> String {
        format!("`{}`: residual block", l.name)
    }

    fn sublayers(&self) -> Vec<&Layer> {
        self.branch.iter().chain(self.projection.as_deref()).collect()
    }
}

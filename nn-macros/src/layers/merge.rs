//! `Concat([LAYER, ...], [LAYER, ...], ...)` and `Sum([...], [...], ...)`: two or more branches over the same
//! input, joined (vectors end to end, planes along their channels) or added. Code generation wires the
//! branches; this file has their rule and their descriptions.

use super::LayerKind;
use crate::model::{Layer, Sz};

/// Parallel branches over the same input, merged by concatenation (features, or channels of planes) or by sum.
pub struct Merge {
    /// The branches' layers (none for a branch that passes the input on).
    pub branches: Vec<Vec<Layer>>,
    /// A sum (else a concatenation).
    pub sum: bool,
    /// The branches' output sizes.
    pub sizes: Vec<Sz>,
}

impl LayerKind for Merge {
    fn describe_short(&self, l: &Layer) -> String {
        format!(
            "{} {}({})",
            l.name,
            if self.sum { "Sum" } else { "Concat" },
            self.branches
                .iter()
                .map(|b| format!("[{}]", b.iter().map(|l| l.kind.describe_short(l)).collect::<Vec<_>>().join(" -> ")))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }

    fn describe(&self, l: &Layer) -> String {
        format!("`{}`: {} of {} branches", l.name, if self.sum { "sum" } else { "concatenation" }, self.branches.len())
    }

    fn sublayers(&self) -> Vec<&Layer> {
        self.branches.iter().flatten().collect()
    }
}

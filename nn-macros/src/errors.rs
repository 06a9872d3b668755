//! The error collector: every error of a declaration is gathered and reported in one compile.

use core::fmt::Display;
use quote::ToTokens;

/// Collects errors, each attached to the tokens it is about.
#[derive(Default)]
pub struct Errors {
    /// Every error recorded.
    all: Option<syn::Error>,
    /// While set, errors are dropped: a layer is being built only for the shape it most likely has.
    muted: bool,
}

impl Errors {
    /// Records `msg` at `tokens`.
    pub fn at(&mut self, tokens: impl ToTokens, msg: impl Display) {
        if !self.muted {
            self.push(syn::Error::new_spanned(tokens, msg));
        }
    }

    /// Records an existing error.
    pub fn push(&mut self, e: syn::Error) {
        if self.muted {
            return;
        }
        match &mut self.all {
            Some(all) => all.combine(e),
            None => self.all = Some(e),
        }
    }

    /// Drops the errors recorded from now on (`true`) or records them again (`false`); returns the previous
    /// setting. A layer built only for the shape the declaration most likely means is built muted, so that
    /// what its name's error already says is not reported again.
    pub fn mute(&mut self, muted: bool) -> bool {
        std::mem::replace(&mut self.muted, muted)
    }

    /// Whether no error has been recorded yet.
    pub fn is_empty(&self) -> bool {
        self.all.is_none()
    }

    /// `Err` with every recorded error, if any.
    pub fn finish(self) -> Result<(), syn::Error> {
        self.all.map_or(Ok(()), Err)
    }
}

/// Edit distance on lowercase characters (optimal string alignment: a swap of neighbours counts once).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for j in 0..=b.len() {
        d[0][j] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// The closest of `candidates` to `word`, if close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_lowercase();
    if lower.len() >= 2
        && let Some(c) = candidates.iter().find(|c| c.to_lowercase().starts_with(&lower))
    {
        return Some(c);
    }
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `", did you mean `x`?"`, or nothing.
pub fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    suggest(word, candidates).map_or_else(String::new, crate::messages::part::did_you_mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_and_case() {
        assert_eq!(suggest("Desne", &["Dense", "Relu"]), Some("Dense"));
        assert_eq!(suggest("relu", &["Dense", "Relu"]), Some("Relu"));
        assert_eq!(suggest("ReLU", &["Dense", "Relu"]), Some("Relu"));
        assert_eq!(suggest("Sigmod", &["Sigmoid", "Tanh"]), Some("Sigmoid"));
        assert_eq!(suggest("Conv", &["Dense", "Relu"]), None);
        assert_eq!(suggest("Desne", &["Dense", "Relu"]), Some("Dense"));
        assert_eq!(suggest("Tahn", &["Tanh", "Relu"]), Some("Tanh"));
        assert_eq!(suggest("he", &["xavier_uniform", "he_uniform"]), Some("he_uniform"));
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}

//! The error collector: every error of a declaration is gathered and reported in one compile.

use core::fmt::Display;
use quote::ToTokens;

/// Collects errors, each attached to the tokens it is about.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    /// Records `msg` at `tokens`.
    pub fn at(&mut self, tokens: impl ToTokens, msg: impl Display) {
        self.push(syn::Error::new_spanned(tokens, msg));
    }

    /// Records an existing error.
    pub fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    /// `Err` with every recorded error, if any.
    pub fn finish(self) -> Result<(), syn::Error> {
        self.0.map_or(Ok(()), Err)
    }
}

/// Levenshtein distance on lowercase characters.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.to_lowercase().chars().collect();
    let b: Vec<char> = b.to_lowercase().chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest of `candidates` to `word`, if close enough to be a likely typo.
pub fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (distance(word, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `", did you mean `x`?"`, or nothing.
pub fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    suggest(word, candidates).map_or_else(String::new, |s| format!(", did you mean `{s}`?"))
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
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}

//! Limits checked on the raw tokens, before anything recursive sees them: the parser, the model and code
//! generation all recurse into blocks, so a declaration nested thousands deep would exhaust the compiler's stack.

use crate::messages;
use proc_macro2::{TokenStream, TokenTree};

/// The deepest nesting of brackets, parentheses and braces accepted, the struct's braces included: far beyond any
/// network (a block inside a block adds two or three), far below what exhausts the stack of the compiler thread.
pub const MAX_NESTING: usize = 64;

/// `Err` at the first group nested deeper than [`MAX_NESTING`]. The walk keeps its own stack, so it is safe at
/// any depth.
pub fn nesting(input: &TokenStream) -> Result<(), syn::Error> {
    let mut stack = vec![input.clone().into_iter()];
    while let Some(tokens) = stack.last_mut() {
        match tokens.next() {
            Some(TokenTree::Group(g)) => {
                if stack.len() > MAX_NESTING {
                    return Err(syn::Error::new(g.span_open(), messages::nested_too_deep(MAX_NESTING)));
                }
                stack.push(g.stream().into_iter());
            }
            Some(_) => {}
            None => {
                stack.pop();
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `depth` groups, one inside the other.
    fn nested(depth: usize) -> TokenStream {
        let text = format!("{}{}", "(".repeat(depth), ")".repeat(depth));
        text.parse().unwrap()
    }

    #[test]
    fn nesting_up_to_the_limit_passes_and_beyond_it_is_an_error() {
        assert!(nesting(&nested(MAX_NESTING)).is_ok());
        let e = nesting(&nested(MAX_NESTING + 1)).unwrap_err().to_string();
        assert_eq!(e, messages::nested_too_deep(MAX_NESTING));
        // Iterative: a depth that would exhaust a recursive walk's stack is just another error.
        assert!(nesting(&nested(100_000)).is_err());
    }
}

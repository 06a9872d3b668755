//! `LocalResponseNorm(SIZE)`: AlexNet's normalisation across the channels of planes (PyTorch's
//! `LocalResponseNorm`), options `alpha`, `beta` and `k` with PyTorch's defaults (1e-4, 0.75, 1). No parameters;
//! the shape passes through.

use super::{Kind, LayerKind};
use crate::codegen::Contract;
use crate::messages::{self, part};
use crate::model::{Builder, Built, Decl, Layer, NameUse, Planes, Sz, number, size};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["LocalResponseNorm"], build };

/// A local response normalisation.
pub struct Lrn {
    /// The channels.
    channels: Sz,
    /// The window, in channels.
    size: TokenStream,
    /// `alpha`, `beta`, `k`.
    alpha: TokenStream,
    /// The power.
    beta: TokenStream,
    /// The additive constant.
    k: TokenStream,
}

/// `LocalResponseNorm(size)` on planes; options `alpha`, `beta`, `k`.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("lrn{}", d.before.len()), span));
    b.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: false, span });
    let label = name.to_string();
    let (mut alpha, mut beta, mut k) = (quote!(1e-4), quote!(0.75), quote!(1.0));
    let mut seen: Vec<String> = Vec::new();
    for (opt, value) in &call.options {
        let key = opt.to_string();
        if seen.contains(&key) {
            b.errors.at(opt, messages::option_twice(&key));
            continue;
        }
        seen.push(key.clone());
        let what = format!("`{key}` of `{label}`");
        let slot = match key.as_str() {
            "alpha" => &mut alpha,
            "beta" => &mut beta,
            "k" => &mut k,
            _ => {
                b.errors.at(opt, messages::unknown_spatial_option("LocalResponseNorm", &key, &["alpha", "beta", "k"]));
                continue;
            }
        };
        if let Some(v) = number(value, b.errors, &what) {
            *slot = v;
        }
    }
    let window = match call.positional.as_slice() {
        [w] => size(w, &part::size_of(&label), b.errors),
        _ => {
            b.errors.at(call.head, messages::lrn_needs_size(&label));
            None
        }
    };
    let Some(inputs) = d.current.cloned() else { return Built::Skipped };
    let channels = match d.planes {
        Planes::Spatial { c, .. } => c.clone(),
        other => {
            b.errors.at(call.head, messages::lrn_needs_planes(&label, &other.describe()));
            return Built::Unknown;
        }
    };
    let Some(window) = window else { return Built::Unknown };
    let kind = Lrn { channels, size: window.tokens(), alpha, beta, k };
    let layer = Layer::same_shape(name, span, kind, inputs.clone());
    Built::Layers(vec![layer], inputs, d.planes.clone())
}

impl LayerKind for Lrn {
    fn describe_short(&self, _: &Layer) -> String {
        format!("LocalResponseNorm ({})", self.size)
    }

    fn contract(&self, l: &Layer, t: &TokenStream) -> Contract {
        let Lrn { channels, size, alpha, beta, k } = self;
        let c = channels.tokens();
        Contract::constant(
            l,
            quote!(::nn_core::__private::LocalResponseNorm<#t, #c>),
            quote!(::nn_core::__private::LocalResponseNorm::<#t, #c>::new(#size, #alpha, #beta, #k)),
        )
    }

    /// Looked through when a convolution before it chooses its initialisation.
    fn relu_like(&self) -> Option<bool> {
        None
    }
}

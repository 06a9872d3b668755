//! `GlobalAvgPool2d`, `GlobalAvgPool1d`, `GlobalMaxPool2d` and `GlobalMaxPool1d`: each channel of the planes in
//! becomes its mean (or its largest value), so `[C, H, W]` (or `[C, L]`) becomes a vector of `C` values whatever
//! the plane's size (PyTorch's `AdaptiveAvgPool2d(1)` or `AdaptiveMaxPool1d(1)` followed by `flatten`): a CNN's
//! head without `Flatten`, and the max-over-time pooling of a text CNN.

use super::{Kind, LayerKind};
use crate::codegen::Contract;
use crate::messages;
use crate::model::{Builder, Built, Decl, InitKind, Layer, NameUse, Planes, Sz, no_options};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// The names it answers to and its builder.
pub const KIND: Kind =
    Kind { names: &["GlobalAvgPool1d", "GlobalAvgPool2d", "GlobalMaxPool1d", "GlobalMaxPool2d"], build };

/// A global pooling layer.
pub struct GlobalPool {
    /// The channels in, one value out each.
    channels: Sz,
    /// The largest value of each channel rather than its mean.
    max: bool,
}

/// `Global*Pool2d` on 2-D planes, `Global*Pool1d` on 1-D planes; no arguments, no options.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    let head = call.head.to_string();
    let two_d = head.ends_with("2d");
    let name =
        entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("{}{}", head.to_lowercase(), d.before.len()), span));
    b.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: false, span });
    no_options(call, b.errors);
    if let Some(extra) = call.positional.first() {
        b.errors.at(extra, messages::takes_no_arguments(&head));
    }
    let Some(inputs) = d.current.cloned() else { return Built::Skipped };
    let channels = match d.planes {
        Planes::Spatial { c, two_d: planes_2d, .. } if *planes_2d == two_d => c.clone(),
        Planes::Spatial { .. } => {
            b.errors.at(call.head, messages::wrong_plane_rank(&head, two_d, &d.planes.describe()));
            return Built::Unknown;
        }
        Planes::Seq { .. } => {
            b.errors.at(call.head, messages::needs_channels(&head, two_d, &d.planes.describe()));
            return Built::Unknown;
        }
        Planes::Flat => {
            b.errors.at(call.head, messages::global_pool_after_vector(&head, two_d));
            return Built::Unknown;
        }
    };
    let outputs = channels.to_dim();
    let layer = Layer {
        name,
        span,
        kind: Box::new(GlobalPool { channels, max: head.starts_with("GlobalMax") }),
        inputs,
        outputs: outputs.clone(),
        init: InitKind::Zeros,
        geometry: None,
        step: None,
        shape: String::new(),
    };
    Built::Layers(vec![layer], outputs, Planes::Flat)
}

impl LayerKind for GlobalPool {
    fn describe_short(&self, _: &Layer) -> String {
        format!("Global{}Pool ({})", if self.max { "Max" } else { "Avg" }, self.channels.display())
    }

    fn contract(&self, l: &Layer, _: &TokenStream) -> Contract {
        let c = self.channels.tokens();
        if self.max {
            Contract::constant(
                l,
                quote!(::nn_core::__private::GlobalMaxPool<#c>),
                quote!(::nn_core::__private::GlobalMaxPool::<#c>),
            )
        } else {
            Contract::constant(
                l,
                quote!(::nn_core::__private::GlobalAvgPool<#c>),
                quote!(::nn_core::__private::GlobalAvgPool::<#c>),
            )
        }
    }

    /// Like pooling, looked through when a dense layer before it chooses its initialisation.
    fn relu_like(&self) -> Option<bool> {
        None
    }
}

//! `Conv2d`, `Conv1d`, `ConvTranspose2d` and `ConvTranspose1d`: convolutions over channels of planes, with their
//! geometry (kernel, stride, padding, dilation, output padding); the window arithmetic here serves pooling too.

use super::embedding::Embedding;
use super::{Kind, LayerKind};
use crate::codegen::{Contract, Field};
use crate::embed::Expected;
use crate::errors::{Errors, did_you_mean};
use crate::int8::Int8;
use crate::messages::{self, part};
use crate::model::{
    Builder, Built, Call, ConstCheck, Decl, Geometry, InitKind, Layer, NameUse, Planes, Sz, bool_option, product, size,
    tokens, ungroup,
};
use proc_macro2::{Ident, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit};

/// The names it answers to and its builder.
pub const KIND: Kind = Kind { names: &["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"], build };

/// A convolution (or transposed convolution) with `out` channels; its geometry is in the layer.
pub struct Conv {
    /// A transposed convolution.
    transposed: bool,
    /// Over 2-D planes.
    two_d: bool,
    /// The channels in.
    in_channels: Sz,
    /// The channels out.
    out: Sz,
    /// Groups: each maps `in_channels / groups` input channels to `out / groups` outputs (depthwise when it
    /// equals both channel counts).
    groups: usize,
    /// The weights of one output channel (a convolution), or of one input channel (transposed): the channels
    /// of a group times the kernel's taps.
    weights: Sz,
    /// Whether it adds a bias (`bias = false` for none; transposed convolutions always do).
    bias: bool,
}

/// A convolution: its default name is `convN` whatever its kind.
fn build(b: &mut Builder<'_>, d: &Decl<'_>) -> Built {
    windowed(b, d, |w| {
        Box::new(Conv {
            transposed: w.transposed,
            two_d: w.two_d,
            in_channels: w.in_channels.clone(),
            out: w.out.clone(),
            groups: w.groups,
            weights: w.weights.clone(),
            bias: w.bias,
        })
    })
}

/// What [`spatial`] works out for a convolution or a pooling layer.
pub struct Window {
    /// A transposed convolution.
    pub transposed: bool,
    /// Over 2-D planes.
    pub two_d: bool,
    /// The channels in.
    pub in_channels: Sz,
    /// The channels out (those in, for pooling).
    pub out: Sz,
    /// Over the input (or, transposed, over the output).
    pub geometry: Geometry,
    /// The planes out.
    pub planes: Planes,
    /// A convolution's groups (1 for everything else).
    pub groups: usize,
    /// A convolution's weights per output channel (per input channel, transposed); 0 for pooling.
    pub weights: Sz,
    /// Whether a convolution adds a bias (`true` for everything else).
    pub bias: bool,
}

/// A convolution or pooling layer (the entry's name says which) whose kind `kind` makes of its [`Window`]: its
/// default name, its shapes and every check of its options and geometry.
pub fn windowed(b: &mut Builder<'_>, d: &Decl<'_>, kind: impl FnOnce(&Window) -> Box<dyn LayerKind>) -> Built {
    let (entry_name, call, span) = (d.name, d.call, d.span);
    let h = call.head.to_string();
    let is_conv = h.starts_with("Conv");
    let default =
        if is_conv { format!("conv{}", b.number("conv")) } else { format!("{}{}", h.to_lowercase(), d.before.len()) };
    let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&default, span));
    b.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: is_conv, span });
    let Some(inputs) = d.current.cloned() else { return Built::Skipped };
    let label = if entry_name.is_some() || is_conv { name.clone() } else { Ident::new(&h, call.head.span()) };
    // Right after an embedding's sequence of vectors, the layout it can give instead.
    if let (Planes::Seq { .. }, Some(embedding)) =
        (d.planes, d.before.last().filter(|l| l.kind_as::<Embedding>().is_some()))
    {
        let msg = messages::needs_channels_from_embedding(&h, &d.planes.describe(), &embedding.name.to_string());
        b.errors.at(call.head, msg);
        return Built::Unknown;
    }
    let Some(window) = spatial(call, &h, &label, d.planes, b.int8, b.errors, &mut b.checks) else {
        return Built::Unknown;
    };
    let outputs = match &window.planes {
        Planes::Spatial { c, h, w, .. } => {
            match product(&[c, h, w], call.head, &label.to_string(), part::ITS_VALUES, b.errors) {
                Some(n) => n.to_dim(),
                None => return Built::Unknown,
            }
        }
        Planes::Flat | Planes::Seq { .. } => inputs.clone(),
    };
    let layer = Layer {
        name,
        span,
        kind: kind(&window),
        inputs,
        outputs: outputs.clone(),
        init: InitKind::HeNormal,
        geometry: Some(window.geometry),
        step: None,
        shape: String::new(),
    };
    Built::Layers(vec![layer], outputs, window.planes)
}

/// A size option: a positive literal, or for 2-D layers a pair `(height, width)`.
fn pair(e: &Expr, what: &str, two_d: bool, zero_ok: bool, errors: &mut Errors) -> Option<(usize, usize)> {
    let one = |e: &Expr, errors: &mut Errors| match ungroup(e) {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => match i.base10_parse::<usize>() {
            Ok(0) if !zero_ok => {
                errors.at(e, messages::zero_geometry(what));
                None
            }
            Ok(n) => Some(n),
            Err(_) => {
                errors.at(e, messages::invalid_size(what, &i.to_string()));
                None
            }
        },
        other => {
            errors.at(other, messages::geometry_not_a_literal(what, &tokens(other)));
            None
        }
    };
    match e {
        Expr::Tuple(t) if two_d && t.elems.len() == 2 => Some((one(&t.elems[0], errors)?, one(&t.elems[1], errors)?)),
        Expr::Tuple(t) => {
            errors.at(t, messages::geometry_not_a_pair(what, two_d));
            None
        }
        other => one(other, errors).map(|n| if two_d { (n, n) } else { (1, n) }),
    }
}

/// Convolutions, transposed convolutions and pooling: shapes worked out from the planes in. Plane sizes and
/// channels may be `const` expressions: the output sizes are then `const` expressions too, and the checks the
/// macro cannot make become `const` assertions with the same messages.
fn spatial(
    call: &Call,
    head: &str,
    name: &Ident,
    planes: &Planes,
    int8: bool,
    errors: &mut Errors,
    checks: &mut Vec<ConstCheck>,
) -> Option<Window> {
    let two_d = head.ends_with("2d");
    let (c, h, w, in_two_d) = match planes {
        Planes::Spatial { c, h, w, two_d } => (c.clone(), h.clone(), w.clone(), *two_d),
        Planes::Seq { .. } => {
            errors.at(call.head, messages::needs_channels(head, two_d, &planes.describe()));
            return None;
        }
        Planes::Flat => {
            errors.at(call.head, messages::needs_channels_not_a_vector(head, two_d));
            return None;
        }
    };
    if two_d != in_two_d {
        errors.at(call.head, messages::wrong_plane_rank(head, two_d, &planes.describe()));
        return None;
    }
    let conv = head.starts_with("Conv");
    let transposed = head.starts_with("ConvTranspose");
    let allowed: &[&str] = if transposed {
        &["kernel", "stride", "padding", "output_padding", "dilation"]
    } else if conv {
        &["kernel", "stride", "padding", "dilation", "groups", "bias"]
    } else {
        &["stride", "padding"]
    };
    let mut opts: Vec<(&str, &Expr)> = Vec::new();
    let mut unknown_option = false;
    for (opt, value) in &call.options {
        let key = opt.to_string();
        match allowed.iter().find(|a| **a == key) {
            Some(a) if opts.iter().any(|(k, _)| k == a) => errors.at(opt, messages::option_twice(&key)),
            Some(a) => opts.push((a, value)),
            None => {
                unknown_option = true;
                let msg = match did_you_mean(&key, allowed) {
                    hint if hint.is_empty() => messages::unknown_spatial_option(head, &key, allowed),
                    hint => messages::unknown_option(head, &key, &hint),
                };
                errors.at(opt, msg);
            }
        }
    }
    let get = |k: &str| opts.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let (out, kernel) = match (conv, call.positional.as_slice()) {
        (true, [o]) => (Some(*o), get("kernel")),
        (true, [o, k]) => (Some(*o), Some(*k)),
        (false, [k]) => (None, Some(*k)),
        (_, []) => {
            errors.at(
                call.head,
                if conv { messages::conv_needs_channels_and_kernel(head) } else { messages::pool_needs_window(head) },
            );
            return None;
        }
        (_, [.., extra]) => {
            errors.at(extra, messages::spatial_too_many_arguments(head, conv));
            return None;
        }
    };
    let Some(kernel) = kernel else {
        if !unknown_option {
            errors.at(call.head, messages::conv_needs_kernel(head));
        }
        return None;
    };
    let out = match out {
        Some(o) => Sz::from_dim(&size(o, &part::output_channels_of(&name.to_string()), errors)?),
        None => c.clone(),
    };
    let (kh, kw) = pair(kernel, part::KERNEL_SIZE, two_d, false, errors)?;
    let stride = match get("stride") {
        Some(e) => pair(e, part::STRIDE, two_d, false, errors)?,
        None if conv => (1, 1),
        None => (kh, kw),
    };
    // `padding = same`: TensorFlow's (and PyTorch's `padding='same'`): `ceil(n / stride)` outputs, the padding
    // split with the odd pixel after.
    let same = get("padding").filter(|e| matches!(ungroup(e), Expr::Path(p) if p.path.is_ident("same")));
    let padding = match (same, get("padding")) {
        (Some(_), _) | (None, None) => (0, 0),
        (None, Some(e)) => pair(e, part::PADDING, two_d, true, errors)?,
    };
    let dilation = get("dilation").map_or(Some((1, 1)), |e| pair(e, part::DILATION, two_d, false, errors))?;
    let out_pad = get("output_padding").map_or(Some((0, 0)), |e| pair(e, part::OUTPUT_PADDING, two_d, true, errors))?;
    let groups = match get("groups") {
        Some(e) => groups_of(e, name, &c, &out, errors, checks)?,
        None => 1,
    };
    // `bias = false`: a convolution without bias (PyTorch's `bias=False`), where the option is one.
    let bias = match call.options.iter().find(|(o, _)| *o == "bias").filter(|_| allowed.contains(&"bias")) {
        Some((o, v)) => bool_option(o, v, errors).unwrap_or(true),
        None => true,
    };
    let (kh, sh, ph, dh) = if two_d { (kh, stride.0, padding.0, dilation.0) } else { (1, 1, 0, 1) };
    let (sw, pw, dw) = (stride.1, padding.1, dilation.1);
    // As PyTorch requires: a pooling window always covers some of the input.
    if !conv && (2 * ph > kh || 2 * pw > kw) {
        errors.at(get("padding").unwrap_or(kernel), messages::pool_padding_too_large(&name.to_string(), kh, kw));
        return None;
    }

    if let Some(e) = same {
        let why = if transposed {
            Some("an ordinary convolution or pooling, not a transposed convolution")
        } else if matches!((&h, &w), (Sz::Expr(..), _) | (_, Sz::Expr(..))) {
            Some("literal plane sizes (not `const` items)")
        } else {
            None
        };
        if let Some(why) = why {
            errors.at(e, messages::same_padding_unsupported(&name.to_string(), why));
            return None;
        }
    }
    if transposed {
        if (two_d && out_pad.0 >= sh) || out_pad.1 >= sw {
            errors.at(get("output_padding").unwrap_or(kernel), messages::OUTPUT_PADDING_NOT_BELOW_STRIDE);
            return None;
        }
        let mut grow = |n: &Sz, k: usize, s: usize, p: usize, d: usize, op: usize| -> Option<Sz> {
            match n {
                Sz::Lit(n) => match nn_shapes::conv_transpose_out(*n, k, s, p, d, op) {
                    0 => None,
                    o => Some(Sz::Lit(o)),
                },
                Sz::Expr(..) => {
                    let t = n.operand();
                    let e = quote!(::nn_core::__private::conv_transpose_out(#t, #k, #s, #p, #d, #op));
                    checks.push(ConstCheck {
                        values: Vec::new(),
                        condition: quote!(#e > 0),
                        message: messages::no_output(&name.to_string(), &planes.describe()),
                        span: call.head.span(),
                    });
                    Some(Sz::Expr(e, format!("conv_transpose_out({})", n.display())))
                }
            }
        };
        let label = name.to_string();
        for (n, k, s, d, op) in [(&h, kh, sh, dh, out_pad.0), (&w, kw, sw, dw, out_pad.1)] {
            // `(n - 1)s + d(k - 1) + output_padding + 1`, before the padding takes its share.
            if let Sz::Lit(n) = n
                && n.saturating_sub(1)
                    .checked_mul(s)
                    .and_then(|a| a.checked_add(d.checked_mul(k - 1)?))
                    .and_then(|a| a.checked_add(op)?.checked_add(1))
                    .is_none()
            {
                let shown = format!("({n} - 1) x {s} + {d} x ({k} - 1) + {op} + 1");
                errors.at(call.head, messages::size_overflows(&label, part::ITS_GROWN_SIZE, &shown));
                return None;
            }
        }
        let oh = if two_d { grow(&h, kh, sh, ph, dh, out_pad.0) } else { Some(Sz::Lit(1)) };
        let ow = grow(&w, kw, sw, pw, dw, out_pad.1);
        let (Some(oh), Some(ow)) = (oh, ow) else {
            errors.at(call.head, messages::no_output(&name.to_string(), &planes.describe()));
            return None;
        };
        let g = Geometry {
            channels: out.clone(),
            h: oh.clone(),
            w: ow.clone(),
            kh,
            kw,
            sh,
            sw,
            ph,
            pw,
            dh,
            dw,
            uneven: (0, 0),
        };
        let planes = Planes::Spatial { c: out.clone(), h: oh, w: ow, two_d };
        let weights =
            product(&[&out, &Sz::Lit(kh), &Sz::Lit(kw)], call.head, &label, part::WEIGHTS_PER_CHANNEL, errors)?;
        return Some(Window { transposed, two_d, in_channels: c, out, geometry: g, planes, groups: 1, weights, bias });
    }
    let mut outs = Vec::new();
    let (mut pads, mut uneven) = ([ph, pw], [0, 0]);
    for (i, (axis, n, k, s, p, d)) in
        [("height", &h, kh, sh, ph, dh), ("width", &w, kw, sw, pw, dw)].into_iter().enumerate()
    {
        if !two_d && axis == "height" {
            outs.push(Sz::Lit(1));
            continue;
        }
        if let (Some(e), Sz::Lit(n)) = (same, n) {
            let o = n.div_ceil(s);
            let Some(span) = (o - 1).checked_mul(s).and_then(|a| a.checked_add(d.checked_mul(k - 1)?)?.checked_add(1))
            else {
                let shown = format!("({o} - 1) x {s} + {d} x ({k} - 1) + 1");
                errors.at(e, messages::size_overflows(&name.to_string(), part::ITS_PADDED_SIZE, &shown));
                return None;
            };
            let total = span.saturating_sub(*n);
            let (before, after) = (total / 2, total - total / 2);
            if before != after && !int8 {
                errors.at(e, messages::uneven_same_padding(&name.to_string(), axis, before, after));
                return None;
            }
            (pads[i], uneven[i]) = (before, after - before);
            outs.push(Sz::Lit(o));
            continue;
        }
        if let Sz::Lit(n) = n
            && p.checked_mul(2).and_then(|p2| n.checked_add(p2)).is_none()
        {
            let shown = format!("{n} + 2 x {p}");
            errors.at(
                get("padding").unwrap_or(kernel),
                messages::size_overflows(&name.to_string(), part::ITS_PADDED_SIZE, &shown),
            );
            return None;
        }
        let message = messages::kernel_too_large(&name.to_string(), conv, k, d, axis, &part::padded(&n.display(), p));
        match n {
            Sz::Lit(n) => match nn_shapes::conv_out(*n, k, s, p, d) {
                0 => {
                    errors.at(kernel, message);
                    return None;
                }
                o => outs.push(Sz::Lit(o)),
            },
            Sz::Expr(..) => {
                let t = n.operand();
                let e = quote!(::nn_core::__private::conv_out(#t, #k, #s, #p, #d));
                checks.push(ConstCheck { values: Vec::new(), condition: quote!(#e > 0), message, span: kernel.span() });
                outs.push(Sz::Expr(e, format!("conv_out({})", n.display())));
            }
        }
    }
    let (oh, ow) = (outs[0].clone(), outs[1].clone());
    // One group's input channels times the kernel's taps.
    let weights = match (&c, conv) {
        (_, false) => Sz::Lit(0),
        (Sz::Lit(n), true) => product(
            &[&Sz::Lit(n / groups), &Sz::Lit(kh), &Sz::Lit(kw)],
            call.head,
            &name.to_string(),
            part::WEIGHTS_PER_CHANNEL,
            errors,
        )?,
        (Sz::Expr(..), true) => {
            let (t, taps) = (
                c.operand(),
                product(
                    &[&Sz::Lit(kh), &Sz::Lit(kw)],
                    call.head,
                    &name.to_string(),
                    part::WEIGHTS_PER_CHANNEL,
                    errors,
                )?
                .tokens(),
            );
            Sz::Expr(quote!(#t / #groups * #taps), format!("{} / {groups} * {}", c.display(), kh * kw))
        }
    };
    let [ph, pw] = pads;
    let g = Geometry { channels: c.clone(), h, w, kh, kw, sh, sw, ph, pw, dh, dw, uneven: (uneven[0], uneven[1]) };
    let out_planes = Planes::Spatial { c: out.clone(), h: oh, w: ow, two_d };
    Some(Window {
        transposed: false,
        two_d,
        in_channels: c,
        out,
        geometry: g,
        planes: out_planes,
        groups,
        weights,
        bias,
    })
}

/// The `groups` option: a positive integer literal that divides the input and the output channels (checked
/// here when they are literals, by `const` assertions with the same message when they are `const` expressions).
fn groups_of(
    e: &Expr,
    name: &Ident,
    channels_in: &Sz,
    channels_out: &Sz,
    errors: &mut Errors,
    checks: &mut Vec<ConstCheck>,
) -> Option<usize> {
    let groups = match e {
        Expr::Lit(ExprLit { lit: Lit::Int(n), .. }) => n.base10_parse::<usize>().ok().filter(|&g| g > 0),
        _ => None,
    };
    let Some(groups) = groups else {
        errors.at(e, messages::GROUPS_NOT_A_POSITIVE_INTEGER);
        return None;
    };
    for (side, channels) in [("input", channels_in), ("output", channels_out)] {
        let message = messages::groups_do_not_divide(&name.to_string(), side, &channels.display(), groups);
        match channels {
            Sz::Lit(n) if n % groups != 0 => {
                errors.at(e, message);
                return None;
            }
            Sz::Lit(_) => {}
            Sz::Expr(..) => {
                let t = channels.operand();
                checks.push(ConstCheck {
                    values: Vec::new(),
                    condition: quote!((#t) % #groups == 0),
                    message,
                    span: e.span(),
                });
            }
        }
    }
    Some(groups)
}

impl LayerKind for Conv {
    fn int8(&self, l: &Layer) -> Result<Int8, String> {
        let (Sz::Lit(c), Sz::Lit(out)) = (&self.in_channels, &self.out) else { return Err(String::new()) };
        if self.transposed {
            return Err(" (no int8 kernel for transposed convolutions)".into());
        }
        if !self.bias {
            return Err(" without a bias (TFLite's convolutions have one)".into());
        }
        let _ = l;
        match self.groups {
            1 => Ok(Int8::Conv { depthwise: false, in_channels: *c, out: *out, two_d: self.two_d }),
            g if g == *c => Ok(Int8::Conv { depthwise: true, in_channels: *c, out: *out, two_d: self.two_d }),
            g => Err(format!(" with {g} groups (int8 convolutions have one group, or one per input channel)")),
        }
    }

    fn describe_short(&self, l: &Layer) -> String {
        format!("{} {}Conv {}", l.name, if self.transposed { "Transposed" } else { "" }, l.shape)
    }

    fn describe(&self, l: &Layer) -> String {
        let g = l.geometry.as_ref().map_or((0, 0), |g| (g.kh, g.kw));
        let grouped = match self.groups {
            1 => String::new(),
            n if self.in_channels.lit() == Some(n) && self.out.lit() == Some(n) => ", depthwise".into(),
            n => format!(", in {n} groups"),
        };
        format!(
            "Layer `{}`: {}convolution, {} to {} channels{grouped}, kernel {}x{}{} ({} inputs to {} outputs).",
            l.name,
            if self.transposed { "transposed " } else { "" },
            self.in_channels.display(),
            self.out.display(),
            g.0,
            g.1,
            if self.bias { "" } else { ", no bias" },
            l.inputs.display(),
            l.outputs.display()
        )
    }

    /// Inference fuses an elementwise activation right after it into the convolution's last pass.
    fn contract(&self, l: &Layer, t: &TokenStream) -> Contract {
        let field = self.field(l, t).expect("a convolution has a field");
        Contract { fuses: l.step.is_none(), ..Contract::field(l, field.ty) }
    }

    fn field(&self, l: &Layer, t: &TokenStream) -> Option<Field> {
        let lit = proc_macro2::Literal::usize_unsuffixed;
        let Conv { transposed, two_d, in_channels, out, groups, weights, bias } = self;
        let g = l.geometry.as_ref()?;
        let (ci, co, kh, kw) = (in_channels.tokens(), out.tokens(), lit(g.kh), lit(g.kw));
        let (h, w) = (g.h.tokens(), g.w.tokens());
        let [sh, sw, ph, pw, dh, dw] = [g.sh, g.sw, g.ph, g.pw, g.dh, g.dw].map(lit);
        let k = weights.tokens();
        let groups = lit(*groups);
        let ty = match (*transposed, *two_d) {
            (false, true) => quote!(
                ::nn_core::__private::Conv2d<#t, #co, #k, #kh, #kw, #h, #w, #sh, #sw, #ph, #pw, #dh, #dw, #groups, #bias>
            ),
            (false, false) => {
                quote!(::nn_core::__private::Conv1d<#t, #co, #k, #kw, #w, #sw, #pw, #dw, #groups, #bias>)
            }
            (true, true) => {
                quote!(::nn_core::__private::ConvTranspose2d<#t, #ci, #k, #co, #kh, #kw, #h, #w, #sh, #sw, #ph, #pw, #dh, #dw>)
            }
            (true, false) => {
                quote!(::nn_core::__private::ConvTranspose1d<#t, #ci, #k, #co, #kw, #w, #sw, #pw, #dw>)
            }
        };
        let field = Field::new(l, ty);
        Some(if *bias { field } else { Field { constructor: "without_bias", ..field } })
    }

    fn tensors(&self, l: &Layer) -> Vec<Expected> {
        let (kh, kw) = l.geometry.as_ref().map_or((1, 1), |g| (g.kh, g.kw));
        let (ci, co) = (self.in_channels.lit().unwrap_or(0), self.out.lit().unwrap_or(0));
        let (a, b) = if self.transposed { (ci, co) } else { (co, ci / self.groups.max(1)) };
        let shape = if self.two_d { vec![a, b, kh, kw] } else { vec![a, b, kw] };
        let mut v = vec![Expected::matrix(l, "weight", shape)];
        if self.bias {
            v.push(Expected::vector(l, "bias", co));
        }
        v
    }
}

//! The validated model: every layer with its resolved input and output size and its span. Every shape rule of
//! the macro lives here; each error is attached to the token it is about, and all errors are collected.

use crate::errors::{Errors, did_you_mean};
use crate::layers::LayerKind;
use crate::layers::activation::{ACTIVATIONS, ActKind, Activation};
use crate::layers::batch_norm::BatchNorm;
use crate::layers::conv::Conv;
use crate::layers::dense::Dense;
use crate::layers::dropout::Dropout;
use crate::layers::maxout::Maxout;
use crate::layers::merge::Merge;
use crate::layers::nested::Nested;
use crate::layers::noisy_relu::NoisyRelu;
use crate::layers::pool::Pool;
use crate::layers::recurrent::{CellKind, Recurrent};
use crate::layers::reshape::Flatten;
use crate::layers::residual::Residual;
use crate::messages::{self, part};
use crate::parse::{Entry, NetworkDef};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, Type, UnOp, Visibility};

/// The scalar type a network computes in.
#[derive(Clone, Copy)]
pub enum Scalar {
    F32,
    F64,
}

impl Scalar {
    /// The type in generated code.
    pub fn tokens(self) -> TokenStream {
        match self {
            Scalar::F32 => quote!(f32),
            Scalar::F64 => quote!(f64),
        }
    }
}

/// A size: a literal the macro can check, or a `const` expression the compiler checks through emitted
/// `const` assertions.
#[derive(Clone)]
pub enum Dim {
    Lit(usize),
    Const(Expr),
}

impl Dim {
    /// The size in type position (`4` or `{ HIDDEN }`).
    pub fn tokens(&self) -> TokenStream {
        match self {
            Dim::Lit(n) => proc_macro2::Literal::usize_unsuffixed(*n).into_token_stream(),
            Dim::Const(e) => quote!({ #e }),
        }
    }

    /// The size as a user wrote it, for messages.
    pub fn display(&self) -> String {
        match self {
            Dim::Lit(n) => n.to_string(),
            Dim::Const(e) => e.to_token_stream().to_string(),
        }
    }
}

/// How a dense layer's weights start.
#[derive(Clone, Copy)]
pub enum InitKind {
    XavierUniform,
    XavierNormal,
    HeUniform,
    HeNormal,
    Zeros,
}

const INIT_NAMES: &[(&str, InitKind)] = &[
    ("xavier_uniform", InitKind::XavierUniform),
    ("xavier_normal", InitKind::XavierNormal),
    ("he_normal", InitKind::HeNormal),
    ("he_uniform", InitKind::HeUniform),
    ("zeros", InitKind::Zeros),
];

/// The layers that are not activations, in the order suggestions prefer.
const KINDS: &[&str] = &[
    "Dense",
    "BatchNorm",
    "Dropout",
    "Conv1d",
    "Conv2d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "Flatten",
    "Reshape",
    "Residual",
    "Concat",
    "Sum",
    "Maxout",
    "NoisyRelu",
    "Network",
    "Rnn",
    "Lstm",
    "Gru",
];

/// Every layer name the macro accepts: the layers, then the activations. The `# Grammar` of `network!`
/// documents exactly these (a unit test compares the two).
pub const LAYER_NAMES: &[&str] = &{
    let mut names = [""; KINDS.len() + ACTIVATIONS.len()];
    let mut i = 0;
    while i < KINDS.len() {
        names[i] = KINDS[i];
        i += 1;
    }
    while i < names.len() {
        names[i] = ACTIVATIONS[i - KINDS.len()].0;
        i += 1;
    }
    names
};

/// A validated layer.
pub struct Layer {
    /// The field name (given, or the default `fcN`).
    pub name: Ident,
    /// The whole entry, for spans of generated code.
    pub span: Span,
    /// What kind of layer it is, with what only that kind has.
    pub kind: Box<dyn LayerKind>,
    pub inputs: Dim,
    pub outputs: Dim,
    /// The initialisation to use (resolved from the option or the next activation).
    pub init: InitKind,
    /// For convolutions and pooling: the geometry, over the input (or, transposed, over the output).
    pub geometry: Option<Geometry>,
    /// For layers whose input is a sequence: the steps and the sizes of one step in and out.
    pub step: Option<StepIo>,
}

impl Layer {
    /// A layer without parameters whose output has the shape of its input.
    pub fn same_shape(name: Ident, span: Span, kind: impl LayerKind, dim: Dim) -> Self {
        Self {
            name,
            span,
            kind: Box::new(kind),
            inputs: dim.clone(),
            outputs: dim,
            init: InitKind::Zeros,
            geometry: None,
            step: None,
        }
    }

    /// The layer's kind, if it is a `K`.
    pub fn kind_as<K: LayerKind>(&self) -> Option<&K> {
        let kind: &dyn std::any::Any = self.kind.as_ref();
        kind.downcast_ref()
    }
}

/// A layer applied to a sequence, seen one step at a time.
#[derive(Clone)]
pub struct StepIo {
    pub steps: Sz,
    pub inputs: Dim,
    pub outputs: Dim,
}

/// A size known to the macro (a literal) or only to the compiler (an expression over `const` items).
#[derive(Clone, Debug)]
pub enum Sz {
    Lit(usize),
    Expr(TokenStream, String),
}

impl PartialEq for Sz {
    fn eq(&self, other: &Self) -> bool {
        self.display() == other.display()
    }
}

impl Sz {
    /// The size in const-generic position: a literal, or the expression in braces.
    pub fn tokens(&self) -> TokenStream {
        match self {
            Sz::Lit(n) => proc_macro2::Literal::usize_unsuffixed(*n).into_token_stream(),
            Sz::Expr(t, _) => quote!({ #t }),
        }
    }

    /// The size as an operand inside a larger expression (parenthesised).
    fn operand(&self) -> TokenStream {
        match self {
            Sz::Lit(n) => proc_macro2::Literal::usize_unsuffixed(*n).into_token_stream(),
            Sz::Expr(t, _) => quote!((#t)),
        }
    }

    pub fn display(&self) -> String {
        match self {
            Sz::Lit(n) => n.to_string(),
            Sz::Expr(_, d) => d.clone(),
        }
    }

    pub fn lit(&self) -> Option<usize> {
        match self {
            Sz::Lit(n) => Some(*n),
            Sz::Expr(..) => None,
        }
    }

    fn from_dim(d: &Dim) -> Self {
        match d {
            Dim::Lit(n) => Sz::Lit(*n),
            Dim::Const(e) => Sz::Expr(e.to_token_stream(), tokens(e)),
        }
    }

    fn to_dim(&self) -> Dim {
        match self {
            Sz::Lit(n) => Dim::Lit(*n),
            Sz::Expr(t, _) => Dim::Const(syn::parse2(quote!((#t))).expect("a parenthesised expression parses")),
        }
    }

    pub fn add(&self, other: &Sz) -> Sz {
        match (self, other) {
            (Sz::Lit(a), Sz::Lit(b)) => Sz::Lit(a + b),
            _ => {
                let (a, b) = (self.operand(), other.operand());
                Sz::Expr(quote!(#a + #b), format!("{} + {}", self.display(), other.display()))
            }
        }
    }

    pub fn mul(&self, other: &Sz) -> Sz {
        match (self, other) {
            (Sz::Lit(a), Sz::Lit(b)) => Sz::Lit(a * b),
            _ => {
                let (a, b) = (self.operand(), other.operand());
                Sz::Expr(quote!(#a * #b), format!("{} * {}", self.display(), other.display()))
            }
        }
    }
}

/// The geometry of a convolution or pooling window, as `nn_core::layer::Geometry` takes it; the plane's size
/// and channels may be `const` expressions, the kernel, stride, padding and dilation are literals.
#[derive(Clone, Debug, PartialEq)]
pub struct Geometry {
    pub channels: Sz,
    pub h: Sz,
    pub w: Sz,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub dh: usize,
    pub dw: usize,
}

/// The shape of the activations between layers: a vector, or channels of 1-D or 2-D planes.
#[derive(Clone, Debug, PartialEq)]
pub enum Planes {
    Flat,
    Spatial {
        c: Sz,
        h: Sz,
        w: Sz,
        two_d: bool,
    },
    /// A sequence of `t` steps of `f` features, time-major.
    Seq {
        t: Sz,
        f: Sz,
    },
}

impl Planes {
    fn describe(&self) -> String {
        match self {
            Planes::Flat => part::A_VECTOR.to_string(),
            Planes::Spatial { c, h, w, two_d: true } => part::planes_2d(&c.display(), &h.display(), &w.display()),
            Planes::Spatial { c, w, .. } => part::planes_1d(&c.display(), &w.display()),
            Planes::Seq { t, f } => part::sequence(&t.display(), &f.display()),
        }
    }
}

/// A check the compiler must make because a size is a `const` expression.
pub struct ConstCheck {
    pub condition: TokenStream,
    pub message: String,
    pub span: Span,
}

/// The validated network.
pub struct Model {
    pub attrs: Vec<Attribute>,
    /// `#[weights = "file.safetensors"]`: weights compiled in from this file (relative to the declaring file).
    pub weights: Option<syn::LitStr>,
    pub vis: Visibility,
    pub name: Ident,
    pub scalar: Scalar,
    pub input: Dim,
    pub layers: Vec<Layer>,
    pub checks: Vec<ConstCheck>,
}

/// A parsed call `Kind(positional..., key = value...)` or bare `Kind`.
struct Call<'a> {
    head: &'a Ident,
    positional: Vec<&'a Expr>,
    options: Vec<(&'a Ident, &'a Expr)>,
}

fn as_call<'a>(e: &'a Expr, errors: &mut Errors) -> Option<Call<'a>> {
    let (func, args) = match e {
        Expr::Path(p) => (p, None),
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => (p, Some(&c.args)),
            other => {
                errors.at(other, messages::not_a_layer(&tokens(other)));
                return None;
            }
        },
        other => {
            errors.at(other, messages::not_a_layer(&tokens(other)));
            return None;
        }
    };
    let Some(head) = func.path.get_ident() else {
        errors.at(func, messages::layer_name_is_a_path(&tokens(func)));
        return None;
    };
    let mut call = Call { head, positional: Vec::new(), options: Vec::new() };
    for arg in args.into_iter().flatten() {
        match arg {
            Expr::Assign(a) => match &*a.left {
                Expr::Path(p) if p.path.get_ident().is_some() => {
                    call.options.push((p.path.get_ident().expect("checked"), &a.right));
                }
                other => errors.at(other, messages::not_an_option_name(&tokens(other))),
            },
            other => call.positional.push(other),
        }
    }
    Some(call)
}

fn tokens(t: impl ToTokens) -> String {
    t.to_token_stream().to_string().replace(" :: ", "::")
}

/// The expression inside the invisible groups `macro_rules!` wraps around fragments (`$n:literal`, `$e:expr`),
/// so a declaration written by another macro reads like one written by hand.
fn ungroup(mut e: &Expr) -> &Expr {
    while let Expr::Group(g) = e {
        e = &g.expr;
    }
    e
}

/// Reads a size: a positive integer literal or a `const` expression.
fn size(e: &Expr, what: &str, errors: &mut Errors) -> Option<Dim> {
    let e = ungroup(e);
    match e {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => match i.base10_parse::<usize>() {
            Ok(0) => {
                errors.at(e, messages::zero_size(what));
                None
            }
            Ok(n) => Some(Dim::Lit(n)),
            Err(_) => {
                errors.at(e, messages::invalid_size(what, &i.to_string()));
                None
            }
        },
        Expr::Path(_) | Expr::Block(_) | Expr::Paren(_) | Expr::Binary(_) | Expr::Call(_) | Expr::MethodCall(_) => {
            Some(Dim::Const(e.clone()))
        }
        other => {
            errors.at(other, messages::not_a_size(what, &tokens(other)));
            None
        }
    }
}

/// Reads a numeric activation parameter: a (possibly negated) literal, or a `const` path of the scalar type.
fn number(e: &Expr, errors: &mut Errors, what: &str) -> Option<TokenStream> {
    let lit_value = |lit: &Lit| match lit {
        Lit::Float(f) => f.base10_parse::<f64>().ok(),
        Lit::Int(i) => i.base10_parse::<f64>().ok(),
        _ => None,
    };
    let e = ungroup(e);
    let value = match e {
        Expr::Lit(l) => lit_value(&l.lit),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match &*u.expr {
            Expr::Lit(l) => lit_value(&l.lit).map(|v| -v),
            _ => None,
        },
        Expr::Path(_) => return Some(e.to_token_stream()),
        _ => None,
    };
    match value {
        Some(v) if v.is_finite() => Some(proc_macro2::Literal::f64_unsuffixed(v).into_token_stream()),
        _ => {
            errors.at(e, messages::not_a_number(what, &tokens(e)));
            None
        }
    }
}

fn bool_option(name: &Ident, value: &Expr, errors: &mut Errors) -> Option<bool> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }) => Some(b.value),
        other => {
            errors.at(other, messages::not_a_bool(&name.to_string(), &tokens(other)));
            None
        }
    }
}

fn init_option(value: &Expr, errors: &mut Errors) -> Option<InitKind> {
    let names: Vec<&str> = INIT_NAMES.iter().map(|(n, _)| *n).collect();
    let word = match value {
        Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
        _ => None,
    };
    match word.as_deref().and_then(|w| INIT_NAMES.iter().find(|(n, _)| *n == w)) {
        Some((_, k)) => Some(*k),
        None => {
            let found = tokens(value);
            errors.at(value, messages::unknown_init(&found, &did_you_mean(&found, &names), &names));
            None
        }
    }
}

impl Model {
    pub fn from_def(def: &NetworkDef) -> Result<Self, syn::Error> {
        let mut errors = Errors::default();
        let scalar = scalar(def.scalar.as_ref(), &mut errors);
        let mut entries = def.entries.iter();

        // The input shape comes first.
        let first = entries.next();
        let mut planes = Planes::Flat;
        let input = match first {
            Some(Entry { name: Some(n), value }) if n == "input" => input_size(value, &mut planes, &mut errors),
            Some(other) => {
                errors.at(entry_tokens(other), messages::MISSING_INPUT);
                None
            }
            None => {
                errors.at(&def.name, messages::declares_nothing(&def.name.to_string()));
                None
            }
        };
        if first.is_some() && def.entries.len() == 1 && input.is_some() {
            errors.at(&def.name, messages::no_layers(&def.name.to_string()));
        }
        // When the first entry is not the input, still validate it as a layer.
        let layer_entries: Vec<&Entry> = match first {
            Some(Entry { name: Some(n), .. }) if n == "input" => entries.collect(),
            Some(f) => std::iter::once(f).chain(entries).collect(),
            None => Vec::new(),
        };

        let mut builder = Builder {
            errors: &mut errors,
            checks: Vec::new(),
            uses: Vec::new(),
            dense_count: 0,
            bn_count: 0,
            conv_count: 0,
            residual_count: 0,
            merge_count: 0,
            recurrent_counts: Vec::new(),
        };
        let entries: Vec<(Option<&Ident>, &Expr, Span)> = layer_entries
            .iter()
            .map(|e| {
                let span = entry_tokens(e).into_iter().map(|t| t.span()).reduce(|a, b| a.join(b).unwrap_or(a));
                (e.name.as_ref(), &e.value, span.unwrap_or_else(Span::call_site))
            })
            .collect();
        let (mut layers, _, _) = builder.sequence(&entries, input.clone(), planes);
        let (checks, uses) = (builder.checks, builder.uses);

        // Initialisations chosen by the layers after (He before ReLU-like activations, for dense layers).
        for i in 0..layers.len() {
            if let Some(init) = layers[i].kind.initialisation(&layers[i + 1..]) {
                layers[i].init = init;
            }
        }

        check_duplicates(&uses, &mut errors);
        let (attrs, weights) = weights_attribute(&def.attrs, &mut errors);
        let nested = layers.iter().find(|l| l.kind.network().is_some());
        if let (Some(path), Some(l)) = (&weights, nested) {
            errors.at(path, messages::weights_with_nested(&l.name.to_string()));
        } else if let Some(path) = &weights {
            let mut consts: Vec<String> = Vec::new();
            for d in std::iter::once(input.as_ref()).flatten().chain(layers.iter().map(|l| &l.outputs)) {
                let shown = d.display();
                if matches!(d, Dim::Const(_)) && !consts.contains(&shown) {
                    consts.push(shown);
                }
            }
            if !consts.is_empty() {
                errors.at(path, messages::weights_with_const_sizes(&consts));
            }
        }
        errors.finish()?;
        Ok(Model {
            attrs,
            weights,
            vis: def.vis.clone(),
            name: def.name.clone(),
            scalar,
            input: input.expect("an error was reported when the input is missing"),
            layers,
            checks,
        })
    }

    /// The layers with parameters (a field in the struct), those inside blocks included, in order.
    pub fn param_layers(&self) -> impl Iterator<Item = &Layer> {
        fn walk<'a>(layers: impl IntoIterator<Item = &'a Layer>, t: &TokenStream, out: &mut Vec<&'a Layer>) {
            for l in layers {
                if l.kind.field(l, t).is_some() {
                    out.push(l);
                }
                walk(l.kind.sublayers(), t, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.layers, &self.scalar.tokens(), &mut out);
        out.into_iter()
    }

    /// The size of the network's output.
    pub fn output(&self) -> &Dim {
        self.layers.last().map_or(&self.input, |l| &l.outputs)
    }
}

fn entry_tokens(e: &Entry) -> TokenStream {
    let mut ts = e.name.to_token_stream();
    e.value.to_tokens(&mut ts);
    ts
}

fn scalar(ty: Option<&Type>, errors: &mut Errors) -> Scalar {
    let Some(ty) = ty else { return Scalar::F32 };
    match tokens(ty).as_str() {
        "f32" => Scalar::F32,
        "f64" => Scalar::F64,
        other => {
            errors.at(ty, messages::unsupported_scalar(other));
            Scalar::F32
        }
    }
}

fn input_size(value: &Expr, planes: &mut Planes, errors: &mut Errors) -> Option<Dim> {
    match value {
        Expr::Call(c) if matches!(&*c.func, Expr::Path(p) if p.path.is_ident("Seq")) => {
            let [steps, features] = c.args.iter().collect::<Vec<_>>()[..] else {
                errors.at(c, messages::MALFORMED_SEQUENCE_INPUT);
                return None;
            };
            let t = size(steps, part::STEPS, errors);
            let f = size(features, part::FEATURES_PER_STEP, errors);
            let (t, f) = (Sz::from_dim(&t?), Sz::from_dim(&f?));
            let count = t.mul(&f).to_dim();
            *planes = Planes::Seq { t, f };
            Some(count)
        }
        Expr::Array(a) if a.elems.len() == 1 => size(&a.elems[0], part::INPUT_SIZE, errors),
        Expr::Array(a) if a.elems.len() <= 3 => {
            let mut dims: Vec<Sz> = Vec::new();
            for e in &a.elems {
                dims.push(Sz::from_dim(&size(e, part::INPUT_DIMENSION, errors)?));
            }
            let one = Sz::Lit(1);
            let (shape, count) = match dims.as_slice() {
                [c, h, w] => {
                    (Planes::Spatial { c: c.clone(), h: h.clone(), w: w.clone(), two_d: true }, c.mul(h).mul(w))
                }
                [c, l] => (Planes::Spatial { c: c.clone(), h: one, w: l.clone(), two_d: false }, c.mul(l)),
                _ => return None,
            };
            *planes = shape;
            Some(count.to_dim())
        }
        Expr::Array(a) => {
            errors.at(a, messages::input_rank(&tokens(a), a.elems.len()));
            None
        }
        other => size(other, part::INPUT_SIZE, errors),
    }
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

/// Convolutions, transposed convolutions, pooling and `Flatten`: shapes worked out from the planes in. Plane
/// sizes and channels may be `const` expressions: the output sizes are then `const` expressions too, and the
/// checks the macro cannot make become `const` assertions with the same messages.
fn spatial(
    call: &Call,
    head: &str,
    name: &Ident,
    planes: &Planes,
    errors: &mut Errors,
    checks: &mut Vec<ConstCheck>,
) -> Option<(Box<dyn LayerKind>, Option<Geometry>, Planes)> {
    let two_d = head.ends_with("2d");
    let (c, h, w, in_two_d) = match planes {
        Planes::Spatial { c, h, w, two_d } => (c.clone(), h.clone(), w.clone(), *two_d),
        Planes::Seq { .. } if head == "Flatten" => return Some((Box::new(Flatten), None, Planes::Flat)),
        Planes::Seq { .. } => {
            errors.at(call.head, messages::needs_channels(head, two_d, &planes.describe()));
            return None;
        }
        Planes::Flat if head == "Flatten" => {
            errors.at(call.head, messages::FLATTEN_AFTER_VECTOR);
            return None;
        }
        Planes::Flat => {
            errors.at(call.head, messages::needs_channels_not_a_vector(head, two_d));
            return None;
        }
    };
    if head == "Flatten" {
        return Some((Box::new(Flatten), None, Planes::Flat));
    }
    if two_d != in_two_d {
        errors.at(call.head, messages::wrong_plane_rank(head, two_d, &planes.describe()));
        return None;
    }
    let conv = head.starts_with("Conv");
    let transposed = head.starts_with("ConvTranspose");
    let allowed: &[&str] = if transposed {
        &["kernel", "stride", "padding", "output_padding", "dilation"]
    } else if conv {
        &["kernel", "stride", "padding", "dilation"]
    } else {
        &["stride"]
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
    let padding = get("padding").map_or(Some((0, 0)), |e| pair(e, part::PADDING, two_d, true, errors))?;
    let dilation = get("dilation").map_or(Some((1, 1)), |e| pair(e, part::DILATION, two_d, false, errors))?;
    let out_pad = get("output_padding").map_or(Some((0, 0)), |e| pair(e, part::OUTPUT_PADDING, two_d, true, errors))?;
    let (kh, sh, ph, dh) = if two_d { (kh, stride.0, padding.0, dilation.0) } else { (1, 1, 0, 1) };
    let (sw, pw, dw) = (stride.1, padding.1, dilation.1);

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
                        condition: quote!(#e > 0),
                        message: messages::no_output(&name.to_string(), &planes.describe()),
                        span: call.head.span(),
                    });
                    Some(Sz::Expr(e, format!("conv_transpose_out({})", n.display())))
                }
            }
        };
        let oh = if two_d { grow(&h, kh, sh, ph, dh, out_pad.0) } else { Some(Sz::Lit(1)) };
        let ow = grow(&w, kw, sw, pw, dw, out_pad.1);
        let (Some(oh), Some(ow)) = (oh, ow) else {
            errors.at(call.head, messages::no_output(&name.to_string(), &planes.describe()));
            return None;
        };
        let g = Geometry { channels: out.clone(), h: oh.clone(), w: ow.clone(), kh, kw, sh, sw, ph, pw, dh, dw };
        let kind = Box::new(Conv { transposed, two_d, in_channels: c, out: out.clone() });
        return Some((kind, Some(g), Planes::Spatial { c: out, h: oh, w: ow, two_d }));
    }
    let mut outs = Vec::new();
    for (axis, n, k, s, p, d) in [("height", &h, kh, sh, ph, dh), ("width", &w, kw, sw, pw, dw)] {
        if !two_d && axis == "height" {
            outs.push(Sz::Lit(1));
            continue;
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
                checks.push(ConstCheck { condition: quote!(#e > 0), message, span: kernel.span() });
                outs.push(Sz::Expr(e, format!("conv_out({})", n.display())));
            }
        }
    }
    let (oh, ow) = (outs[0].clone(), outs[1].clone());
    let g = Geometry { channels: c.clone(), h, w, kh, kw, sh, sw, ph, pw, dh, dw };
    let out_planes = Planes::Spatial { c: out.clone(), h: oh, w: ow, two_d };
    let kind: Box<dyn LayerKind> = if conv {
        Box::new(Conv { transposed: false, two_d, in_channels: c, out })
    } else {
        Box::new(Pool { max: head.starts_with("Max") })
    };
    Some((kind, Some(g), out_planes))
}

/// Reports every option of a layer that takes none.
fn no_options(call: &Call, errors: &mut Errors) {
    for (opt, _) in &call.options {
        errors.at(opt, messages::no_options(&call.head.to_string(), &opt.to_string()));
    }
}

fn activation_param(kind: ActKind, call: &Call, errors: &mut Errors) -> Option<TokenStream> {
    let name = kind.name();
    no_options(call, errors);
    match (kind.parameter(), call.positional.as_slice()) {
        (_, []) => None,
        (None, [first, ..]) => {
            errors.at(first, messages::takes_no_arguments(name));
            None
        }
        (Some((what, _)), [p]) => number(p, errors, &part::parameter_of(what, name)),
        (Some((what, default)), [_, extra, ..]) => {
            errors.at(extra, messages::one_optional_argument(name, what, default));
            None
        }
    }
}

/// Where a dense layer sits: on a sequence or not, and the recurrent layer that returned only its last step.
struct DenseContext {
    sequence: bool,
    last_step: Option<String>,
}

/// The latest recurrent layer, when it returns only its last step.
fn last_step_layer(layers: &[Layer]) -> Option<String> {
    let latest = layers.iter().rev().find_map(|l| l.kind_as::<Recurrent>().map(|r| (l, r)));
    match latest {
        Some((l, Recurrent { last: true, .. })) => Some(l.name.to_string()),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn dense(
    call: &Call,
    name: Ident,
    span: Span,
    current: Option<&Dim>,
    prev_name: &str,
    context: &DenseContext,
    errors: &mut Errors,
    checks: &mut Vec<ConstCheck>,
) -> Option<Layer> {
    let mut bias = true;
    let mut init = None;
    let mut seen: Vec<String> = Vec::new();
    for (opt, value) in &call.options {
        let key = opt.to_string();
        if seen.contains(&key) {
            errors.at(opt, messages::option_twice(&key));
            continue;
        }
        seen.push(key.clone());
        match key.as_str() {
            "bias" => bias = bool_option(opt, value, errors).unwrap_or(true),
            "init" => init = init_option(value, errors),
            "per_step" => {
                if bool_option(opt, value, errors) == Some(true) && !context.sequence {
                    let why = context.last_step.as_deref();
                    errors.at(opt, messages::per_step_without_sequence(&name.to_string(), why));
                }
            }
            _ => {
                let msg = match did_you_mean(&key, &["bias", "init", "per_step"]) {
                    s if s.is_empty() => messages::unknown_dense_option(&key),
                    s => messages::unknown_option("Dense", &key, &s),
                };
                errors.at(opt, msg);
            }
        }
    }
    let what = part::size_of(&name.to_string());
    let (explicit_in, outputs) = match call.positional.as_slice() {
        [] => {
            errors.at(call.head, messages::dense_needs_outputs(&name.to_string()));
            return None;
        }
        [out] => (None, size(out, &what, errors)?),
        [inp, out] => {
            let i = size(inp, &part::input_size_of(&name.to_string()), errors);
            let o = size(out, &what, errors)?;
            (Some((i?, *inp)), o)
        }
        [_, _, extra, ..] => {
            errors.at(extra, messages::DENSE_TOO_MANY_SIZES);
            return None;
        }
    };
    let out_span = call.positional.last().map_or(span, |e| e.span());
    let inputs = current?.clone();
    if let Some((declared, tokens_in)) = explicit_in {
        check_inputs(&name, &declared, tokens_in, &inputs, prev_name, errors, checks);
    }
    if let Dim::Const(_) = &outputs {
        let o = outputs.tokens();
        checks.push(ConstCheck {
            condition: quote!(#o > 0),
            message: messages::zero_const_size(&what, &outputs.display()),
            span: out_span,
        });
    }
    Some(Layer {
        name,
        span,
        kind: Box::new(Dense { bias, init }),
        inputs,
        outputs,
        init: InitKind::XavierUniform,
        geometry: None,
        step: None,
    })
}

/// A layer name as declared or defaulted, recorded even when the layer itself has errors.
struct NameUse {
    name: Ident,
    named: bool,
    is_param: bool,
    span: Span,
}

/// Builds and checks a sequence of layers: the network's, or a residual branch's.
struct Builder<'e> {
    errors: &'e mut Errors,
    checks: Vec<ConstCheck>,
    uses: Vec<NameUse>,
    dense_count: usize,
    bn_count: usize,
    conv_count: usize,
    residual_count: usize,
    merge_count: usize,
    /// Recurrent layers declared so far, per kind, for default names (`lstm1`, `gru1`).
    recurrent_counts: Vec<(String, usize)>,
}

impl Builder<'_> {
    /// The layers of `entries`, starting from `current` values shaped as `planes`; returns them with the size
    /// and shape of their output (`None` when an error makes it unknown).
    fn sequence(
        &mut self,
        entries: &[(Option<&Ident>, &Expr, Span)],
        mut current: Option<Dim>,
        mut planes: Planes,
    ) -> (Vec<Layer>, Option<Dim>, Planes) {
        let mut layers: Vec<Layer> = Vec::new();
        // Layers applied to a sequence learn the per-step sizes once their output shape is known.
        let mut pending: Option<(Planes, usize)> = None;
        for &(entry_name, value, span) in entries {
            annotate_steps(&mut layers, pending.take(), &planes);
            pending = Some((planes.clone(), layers.len()));
            if let Some(n) = entry_name
                && n == "input"
            {
                self.errors.at(n, messages::INPUT_REPEATED);
                continue;
            }
            let Some(call) = as_call(value, self.errors) else { continue };
            if call.head == "Concat" || call.head == "Sum" || call.head == "Residual" {
                // Blocks of layers: a residual block, or branches merged.
                let Some(start) = current.clone() else { continue };
                let residual = call.head == "Residual";
                let count = if residual { &mut self.residual_count } else { &mut self.merge_count };
                *count += 1;
                let default = format!("{}{}", call.head.to_string().to_lowercase(), count);
                let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&default, span));
                let built = if residual {
                    self.residual(&call, name, span, start, planes.clone())
                } else {
                    self.merge(&call, name, span, start, planes.clone())
                };
                let Some((layer, out_planes)) = built else {
                    current = None;
                    continue;
                };
                current = Some(layer.outputs.clone());
                planes = out_planes;
                layers.push(layer);
                continue;
            }
            let prev_name = layers
                .iter()
                .rev()
                .find(|l| l.kind_as::<Dense>().is_some())
                .map_or_else(|| "input".to_string(), |l| l.name.to_string());
            let prev_name = prev_name.as_str();

            const SPATIAL: &[&str] = &[
                "Conv1d",
                "Conv2d",
                "ConvTranspose1d",
                "ConvTranspose2d",
                "MaxPool1d",
                "MaxPool2d",
                "AvgPool1d",
                "AvgPool2d",
                "Flatten",
            ];
            let head = call.head.to_string();
            if head == "Reshape" {
                if let Some(n) = entry_name {
                    self.uses.push(NameUse { name: n.clone(), named: true, is_param: false, span });
                }
                let Some(inputs) = current.clone() else { continue };
                let Some(new_planes) = reshape(&call, &inputs, &planes, self.errors) else {
                    current = None;
                    continue;
                };
                let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("reshape{}", layers.len()), span));
                planes = new_planes;
                layers.push(Layer {
                    name,
                    span,
                    kind: Box::new(Flatten),
                    inputs: inputs.clone(),
                    outputs: inputs,
                    init: InitKind::Zeros,
                    geometry: None,
                    step: None,
                });
                continue;
            }
            if let Some(&h) = ["Rnn", "Lstm", "Gru"].iter().find(|h| **h == head) {
                let n = match self.recurrent_counts.iter_mut().find(|(k, _)| k == h) {
                    Some((_, n)) => {
                        *n += 1;
                        *n
                    }
                    None => {
                        self.recurrent_counts.push((h.to_string(), 1));
                        1
                    }
                };
                let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("{}{n}", h.to_lowercase()), span));
                self.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: true, span });
                let inputs = current.clone();
                let Some((stack, out_planes)) = self.recurrent(&call, h, name, span, inputs, &planes, &layers) else {
                    current = None;
                    continue;
                };
                for l in &stack[1..] {
                    self.uses.push(NameUse { name: l.name.clone(), named: false, is_param: true, span });
                }
                current = stack.last().map(|l| l.outputs.clone());
                planes = out_planes;
                layers.extend(stack);
                continue;
            }
            if let Some(h) = SPATIAL.iter().find(|h| **h == head) {
                let is_conv = h.starts_with("Conv");
                if is_conv {
                    self.conv_count += 1;
                }
                let default = if is_conv {
                    format!("conv{}", self.conv_count)
                } else {
                    format!("{}{}", h.to_lowercase(), layers.len())
                };
                let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&default, span));
                self.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: is_conv, span });
                let Some(inputs) = current.clone() else { continue };
                let label =
                    if entry_name.is_some() || is_conv { name.clone() } else { Ident::new(h, call.head.span()) };
                let Some((kind, geometry, out_planes)) =
                    spatial(&call, h, &label, &planes, self.errors, &mut self.checks)
                else {
                    current = None;
                    continue;
                };
                let outputs = match &out_planes {
                    Planes::Spatial { c, h, w, .. } => c.mul(h).mul(w).to_dim(),
                    Planes::Flat | Planes::Seq { .. } => inputs.clone(),
                };
                planes = out_planes;
                current = Some(outputs.clone());
                layers.push(Layer {
                    name,
                    span,
                    kind,
                    inputs,
                    outputs,
                    init: InitKind::HeNormal,
                    geometry,
                    step: None,
                });
                continue;
            }
            if current.is_some() && matches!(planes, Planes::Spatial { .. }) && call.head == "Dense" {
                self.errors.at(call.head, messages::dense_after_planes(&call.head.to_string(), &planes.describe()));
                current = None;
                continue;
            }
            if call.head == "Dense" {
                self.dense_count += 1;
                let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("fc{}", self.dense_count), span));
                let named = entry_name.is_some();
                self.uses.push(NameUse { name: name.clone(), named, is_param: true, span });
                // On a sequence, a dense layer applies to every step (PyTorch's `Linear` on `[steps, features]`).
                let seq = match &planes {
                    Planes::Seq { t, f } => Some((t.clone(), f.clone())),
                    _ => None,
                };
                let per_step_in = seq.as_ref().map(|(_, f)| f.to_dim()).or_else(|| current.clone());
                let context = DenseContext { sequence: seq.is_some(), last_step: last_step_layer(&layers) };
                let Some(mut layer) =
                    dense(&call, name, span, per_step_in.as_ref(), prev_name, &context, self.errors, &mut self.checks)
                else {
                    current = None;
                    continue;
                };
                if let Some((t, f)) = seq {
                    let o = Sz::from_dim(&layer.outputs);
                    layer.step =
                        Some(StepIo { steps: t.clone(), inputs: layer.inputs.clone(), outputs: layer.outputs.clone() });
                    layer.inputs = t.mul(&f).to_dim();
                    layer.outputs = t.mul(&o).to_dim();
                    planes = Planes::Seq { t, f: o };
                }
                current = Some(layer.outputs.clone());
                layers.push(layer);
            } else if call.head == "BatchNorm" {
                self.bn_count += 1;
                let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("bn{}", self.bn_count), span));
                self.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: true, span });
                no_options(&call, self.errors);
                let declared = match call.positional.as_slice() {
                    [] => None,
                    [n] => size(n, &part::size_of(&name.to_string()), self.errors).map(|d| (d, *n)),
                    [_, extra, ..] => {
                        self.errors.at(extra, messages::BATCH_NORM_TOO_MANY_SIZES);
                        None
                    }
                };
                let Some(dim) = current.clone() else { continue };
                if let Planes::Seq { .. } = &planes {
                    self.errors
                        .at(call.head, messages::batch_norm_over_sequence(&name.to_string(), &planes.describe()));
                    current = None;
                    continue;
                }
                // On planes, one mean and variance per channel (PyTorch's `BatchNorm2d`/`BatchNorm1d` on [C, L]).
                let geometry = match &planes {
                    Planes::Spatial { c, h, w, .. } => Some(Geometry {
                        channels: c.clone(),
                        h: h.clone(),
                        w: w.clone(),
                        kh: 1,
                        kw: 1,
                        sh: 1,
                        sw: 1,
                        ph: 0,
                        pw: 0,
                        dh: 1,
                        dw: 1,
                    }),
                    Planes::Flat | Planes::Seq { .. } => None,
                };
                if let Some((d, tokens_in)) = declared {
                    match &geometry {
                        Some(g) => {
                            let declared = Sz::from_dim(&d);
                            let msg = messages::expects_channels(
                                &name.to_string(),
                                &d.display(),
                                &g.channels.display(),
                                &planes.describe(),
                            );
                            match (declared.lit(), g.channels.lit()) {
                                (Some(a), Some(b)) if a != b => self.errors.at(tokens_in, msg),
                                (Some(_), Some(_)) => {}
                                _ => {
                                    let (a, b) = (declared.tokens(), g.channels.tokens());
                                    self.checks.push(ConstCheck {
                                        condition: quote!(#a == #b),
                                        message: msg,
                                        span: tokens_in.span(),
                                    });
                                }
                            }
                        }
                        None => check_inputs(&name, &d, tokens_in, &dim, prev_name, self.errors, &mut self.checks),
                    }
                }
                layers.push(Layer {
                    name,
                    span,
                    kind: Box::new(BatchNorm),
                    inputs: dim.clone(),
                    outputs: dim,
                    init: InitKind::Zeros,
                    geometry,
                    step: None,
                });
            } else if call.head == "Dropout" {
                let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("dropout{}", layers.len()), span));
                self.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: false, span });
                no_options(&call, self.errors);
                let p = match call.positional.as_slice() {
                    [p] => dropout_probability(p, &name, self.errors, &mut self.checks),
                    [] => {
                        self.errors.at(call.head, messages::DROPOUT_NEEDS_PROBABILITY);
                        None
                    }
                    [_, extra, ..] => {
                        self.errors.at(extra, messages::DROPOUT_TOO_MANY_ARGUMENTS);
                        None
                    }
                };
                let (Some(p), Some(dim)) = (p, current.clone()) else { continue };
                layers.push(Layer::same_shape(name, span, Dropout { p }, dim));
            } else if call.head == "Network" {
                let Some(name) = entry_name.cloned() else {
                    self.errors.at(call.head, messages::NESTED_NEEDS_NAME);
                    current = None;
                    continue;
                };
                self.uses.push(NameUse { name: name.clone(), named: true, is_param: true, span });
                no_options(&call, self.errors);
                let ty = match call.positional.as_slice() {
                    [Expr::Path(p)] if p.qself.is_none() => Some(p.path.clone()),
                    [other] => {
                        self.errors.at(other, messages::not_a_network_type(&tokens(other)));
                        None
                    }
                    [] => {
                        self.errors.at(call.head, messages::NETWORK_NEEDS_TYPE);
                        None
                    }
                    [_, extra, ..] => {
                        self.errors.at(extra, messages::NETWORK_TOO_MANY_ARGUMENTS);
                        None
                    }
                };
                let (Some(ty), Some(dim)) = (ty, current.clone()) else {
                    current = None;
                    continue;
                };
                if !matches!(planes, Planes::Flat) {
                    self.errors.at(call.head, messages::nested_needs_vector(&name.to_string(), &planes.describe()));
                    current = None;
                    continue;
                }
                let shown = tokens(&ty);
                let n = Sz::from_dim(&dim);
                let inputs = n.operand();
                let from = match layers.last() {
                    Some(l) => match l.kind_as::<Nested>() {
                        Some(Nested { ty: before }) => part::nested_outputs(&tokens(before), &l.name.to_string()),
                        None => part::layer_outputs(&n.display(), &l.name.to_string()),
                    },
                    None => part::network_inputs(&n.display()),
                };
                self.checks.push(ConstCheck {
                    condition: quote!(<#ty>::INPUTS == #inputs),
                    message: messages::nested_inputs_differ(&name.to_string(), &shown, &from),
                    span: ty.span(),
                });
                let outputs = Sz::Expr(quote!(<#ty>::OUTPUTS), format!("{shown}::OUTPUTS")).to_dim();
                current = Some(outputs.clone());
                layers.push(Layer {
                    name,
                    span,
                    kind: Box::new(Nested { ty }),
                    inputs: dim,
                    outputs,
                    init: InitKind::Zeros,
                    geometry: None,
                    step: None,
                });
            } else if call.head == "NoisyRelu" {
                let name =
                    entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("noisyrelu{}", layers.len()), span));
                self.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: false, span });
                no_options(&call, self.errors);
                if let Some(extra) = call.positional.first() {
                    self.errors.at(extra, messages::NOISY_RELU_TAKES_NO_ARGUMENT);
                }
                let Some(dim) = current.clone() else { continue };
                layers.push(Layer::same_shape(name, span, NoisyRelu, dim));
            } else if call.head == "Maxout" {
                let name = entry_name.cloned().unwrap_or_else(|| Ident::new(&format!("maxout{}", layers.len()), span));
                self.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: false, span });
                no_options(&call, self.errors);
                let pieces = match call.positional.as_slice() {
                    [k] => size(k, part::MAXOUT_PIECES, self.errors).map(|d| (Sz::from_dim(&d), *k)),
                    [] => {
                        self.errors.at(call.head, messages::MAXOUT_NEEDS_PIECES);
                        None
                    }
                    [_, extra, ..] => {
                        self.errors.at(extra, messages::MAXOUT_TOO_MANY_ARGUMENTS);
                        None
                    }
                };
                let (Some((k, k_tokens)), Some(dim)) = (pieces, current.clone()) else {
                    current = None;
                    continue;
                };
                if !matches!(planes, Planes::Flat) {
                    self.errors.at(call.head, messages::maxout_over_planes(&planes.describe()));
                    current = None;
                    continue;
                }
                let n = Sz::from_dim(&dim);
                let from =
                    layers.last().map_or_else(|| part::THE_INPUT.to_string(), |l| part::layer(&l.name.to_string()));
                let msg = messages::maxout_not_a_multiple(&k.display(), &from, &n.display());
                let outputs = match (n.lit(), k.lit()) {
                    (Some(a), Some(b)) if a % b != 0 => {
                        self.errors.at(k_tokens, msg);
                        current = None;
                        continue;
                    }
                    (Some(a), Some(b)) => Sz::Lit(a / b),
                    _ => {
                        let (a, b) = (n.operand(), k.operand());
                        self.checks.push(ConstCheck {
                            condition: quote!(#a % #b == 0),
                            message: msg,
                            span: k_tokens.span(),
                        });
                        Sz::Expr(quote!(#a / #b), format!("{} / {}", n.display(), k.display()))
                    }
                };
                let outputs = outputs.to_dim();
                current = Some(outputs.clone());
                layers.push(Layer {
                    name,
                    span,
                    kind: Box::new(Maxout { pieces: k }),
                    inputs: dim,
                    outputs,
                    init: InitKind::Zeros,
                    geometry: None,
                    step: None,
                });
            } else if let Some((_, kind)) = ACTIVATIONS.iter().find(|(n, _)| call.head == n) {
                let param = activation_param(*kind, &call, self.errors);
                let name = entry_name
                    .cloned()
                    .unwrap_or_else(|| Ident::new(&format!("{}{}", kind.name().to_lowercase(), layers.len()), span));
                self.uses.push(NameUse { name: name.clone(), named: entry_name.is_some(), is_param: false, span });
                let Some(dim) = current.clone() else { continue };
                layers.push(Layer::same_shape(name, span, Activation { kind: *kind, param }, dim));
            } else {
                let head = call.head.to_string();
                let hint = match head.to_lowercase().as_str() {
                    "linear" | "fc" => part::LINEAR_HINT.to_string(),
                    "silu" => part::did_you_mean("Swish"),
                    _ => match did_you_mean(&head, LAYER_NAMES) {
                        s if s.is_empty() => {
                            let activations: Vec<&str> = ACTIVATIONS.iter().map(|(n, _)| *n).collect();
                            let layers: Vec<&str> =
                                LAYER_NAMES.iter().copied().filter(|n| !activations.contains(n)).collect();
                            part::every_layer(&layers, &activations)
                        }
                        s => s,
                    },
                };
                self.errors.at(call.head, messages::unknown_layer(&head, &hint));
                current = None;
            }
        }
        annotate_steps(&mut layers, pending.take(), &planes);
        (layers, current, planes)
    }

    /// `Rnn(hidden)`, `Lstm(hidden)`, `Gru(hidden)`, or with the input size per step first (`Lstm(8, 32)`);
    /// options `output = sequence | last` and, for `Rnn`, `activation = Tanh | Relu | ...`.
    #[allow(clippy::too_many_arguments)]
    fn recurrent(
        &mut self,
        call: &Call,
        head: &str,
        name: Ident,
        span: Span,
        inputs: Option<Dim>,
        planes: &Planes,
        layers: &[Layer],
    ) -> Option<(Vec<Layer>, Planes)> {
        let mut last = false;
        let mut activation = ActKind::Tanh;
        let mut forget_bias = None;
        let mut count = 1;
        let allowed: &[&str] = match head {
            "Rnn" => &["output", "layers", "activation"],
            "Lstm" => &["output", "layers", "forget_bias"],
            _ => &["output", "layers"],
        };
        let mut seen: Vec<String> = Vec::new();
        for (opt, value) in &call.options {
            let key = opt.to_string();
            if seen.contains(&key) {
                self.errors.at(opt, messages::option_twice(&key));
                continue;
            }
            seen.push(key.clone());
            let word = match value {
                Expr::Path(p) => p.path.get_ident().map(ToString::to_string),
                _ => None,
            };
            match key.as_str() {
                "output" => match word.as_deref() {
                    Some("last") => last = true,
                    Some("sequence") => last = false,
                    _ => self.errors.at(value, messages::not_an_output_mode(&name.to_string(), &tokens(value))),
                },
                "layers" => match ungroup(value) {
                    Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) if matches!(i.base10_parse::<usize>(), Ok(1..=8)) => {
                        count = i.base10_parse::<usize>().unwrap_or(1);
                    }
                    other => self.errors.at(other, messages::not_a_layer_count(&name.to_string(), &tokens(other))),
                },
                "forget_bias" if head == "Lstm" => {
                    forget_bias = number(value, self.errors, &part::forget_bias_of(&name.to_string()));
                }
                "activation" if head == "Rnn" => match ACTIVATIONS.iter().find(|(n, _)| word.as_deref() == Some(*n)) {
                    Some((_, ActKind::Softmax)) => {
                        self.errors.at(value, messages::activation_not_elementwise(&name.to_string()))
                    }
                    Some((_, kind)) => activation = *kind,
                    None => {
                        let found = tokens(value);
                        let names: Vec<&str> = ACTIVATIONS.iter().map(|(n, _)| *n).collect();
                        let msg = match value {
                            Expr::Call(c) => messages::activation_with_arguments(&name.to_string(), &tokens(&c.func)),
                            _ => messages::unknown_activation(&found, &name.to_string(), &did_you_mean(&found, &names)),
                        };
                        self.errors.at(value, msg);
                    }
                },
                _ => {
                    let msg = match did_you_mean(&key, allowed) {
                        hint if !hint.is_empty() => messages::unknown_option(head, &key, &hint),
                        _ if head == "Rnn" || head == "Lstm" => messages::unknown_recurrent_option(head, &key),
                        _ if !did_you_mean(&key, &["activation"]).is_empty() => {
                            messages::gates_have_fixed_activations(head, &key)
                        }
                        _ => messages::unknown_recurrent_option(head, &key),
                    };
                    self.errors.at(opt, msg);
                }
            }
        }
        let what = part::hidden_size_of(&name.to_string());
        let (explicit, hidden) = match call.positional.as_slice() {
            [] => {
                self.errors.at(call.head, messages::recurrent_needs_hidden(head, &name.to_string()));
                return None;
            }
            [h] => (None, size(h, &what, self.errors)?),
            [i, h] => {
                let i = size(i, &part::input_size_of(&name.to_string()), self.errors).map(|d| (d, *i));
                let h = size(h, &what, self.errors)?;
                (Some(i?), h)
            }
            [_, _, extra, ..] => {
                self.errors.at(extra, messages::recurrent_too_many_sizes(head));
                return None;
            }
        };
        let inputs = inputs?;
        let (t, f) = match planes {
            Planes::Seq { t, f } => (t.clone(), f.clone()),
            other => {
                let found = match other {
                    Planes::Flat => part::vector_of(&inputs.display()),
                    p => p.describe(),
                };
                let last_step = last_step_layer(layers);
                self.errors.at(call.head, messages::needs_sequence(&name.to_string(), &found, last_step.as_deref()));
                return None;
            }
        };
        let prev = layers.last().map_or_else(|| part::THE_INPUT.to_string(), |l| part::layer(&l.name.to_string()));
        if let Some((declared, tokens_in)) = explicit {
            let msg = messages::expects_inputs_per_step(&name.to_string(), &declared.display(), &f.display(), &prev);
            match (&declared, f.lit()) {
                (Dim::Lit(d), Some(have)) if *d != have => self.errors.at(tokens_in, msg),
                (Dim::Lit(_), Some(_)) => {}
                _ => {
                    let (a, b) = (declared.tokens(), f.tokens());
                    self.checks.push(ConstCheck { condition: quote!(#a == #b), message: msg, span: tokens_in.span() });
                }
            }
        }
        if let Dim::Const(_) = &hidden {
            let h = hidden.tokens();
            self.checks.push(ConstCheck {
                condition: quote!(#h > 0),
                message: messages::zero_const_size(&what, &hidden.display()),
                span: call.head.span(),
            });
        }
        let cell = match head {
            "Lstm" => CellKind::Lstm,
            "Gru" => CellKind::Gru,
            _ => CellKind::Rnn(activation),
        };
        let h = Sz::from_dim(&hidden);
        let every = t.mul(&h).to_dim();
        // A stack of `count` layers (PyTorch's `num_layers`): the first reads the sequence, the others the
        // hidden states of the one before; only the last may return just its last step.
        let mut stack = Vec::new();
        for index in 0..count {
            let top = index + 1 == count;
            let layer_name = if index == 0 { name.clone() } else { Ident::new(&format!("{name}_l{index}"), span) };
            let (input, layer_inputs) =
                if index == 0 { (f.clone(), inputs.clone()) } else { (h.clone(), every.clone()) };
            stack.push(Layer {
                name: layer_name,
                span,
                kind: Box::new(Recurrent {
                    cell,
                    steps: t.clone(),
                    input: input.clone(),
                    hidden: h.clone(),
                    last: last && top,
                    forget_bias: forget_bias.clone(),
                    index,
                    module: (index > 0).then(|| name.clone()),
                }),
                inputs: layer_inputs,
                outputs: if last && top { hidden.clone() } else { every.clone() },
                init: InitKind::Zeros,
                geometry: None,
                step: Some(StepIo { steps: t.clone(), inputs: input.to_dim(), outputs: hidden.clone() }),
            });
        }
        let out_planes = if last { Planes::Flat } else { Planes::Seq { t, f: h } };
        Some((stack, out_planes))
    }

    /// `Residual(layers..., project = layer)`: the branch's output must have the shape of its input, or of the
    /// projection's output when there is one.
    fn residual(
        &mut self,
        call: &Call,
        name: Ident,
        span: Span,
        start: Dim,
        planes: Planes,
    ) -> Option<(Layer, Planes)> {
        let mut projection = None;
        for (opt, value) in &call.options {
            if *opt == "project" && projection.is_none() {
                projection = Some(*value);
            } else {
                self.errors.at(opt, messages::unknown_residual_option(&opt.to_string()));
            }
        }
        if call.positional.is_empty() {
            self.errors.at(call.head, messages::RESIDUAL_NEEDS_BRANCH);
            return None;
        }
        let entries: Vec<(Option<&Ident>, &Expr, Span)> =
            call.positional.iter().map(|e| (None, *e, e.span())).collect();
        let (branch, out, out_planes) = self.sequence(&entries, Some(start.clone()), planes.clone());
        let out = out?;
        let (projection, skip, skip_planes) = match projection {
            Some(p) => {
                let (mut layers, d, pl) = self.sequence(&[(None, p, p.span())], Some(start.clone()), planes);
                if layers.len() != 1 {
                    self.errors.at(p, messages::PROJECTION_IS_ONE_LAYER);
                    return None;
                }
                (Some(Box::new(layers.remove(0))), d?, pl)
            }
            None => (None, start.clone(), planes),
        };
        let shape = |d: &Dim, p: &Planes| match p {
            Planes::Flat => d.display(),
            p => p.describe(),
        };
        let literal = |p: &Planes, d: &Dim| match p {
            Planes::Flat => matches!(d, Dim::Lit(_)),
            Planes::Spatial { c, h, w, .. } => c.lit().is_some() && h.lit().is_some() && w.lit().is_some(),
            Planes::Seq { t, f } => t.lit().is_some() && f.lit().is_some(),
        };
        let (b, s) = (shape(&out, &out_planes), shape(&skip, &skip_planes));
        let msg = if projection.is_some() {
            messages::residual_differs_from_projection(&name.to_string(), &b, &s)
        } else {
            messages::residual_differs_from_input(&name.to_string(), &b, &s)
        };
        if literal(&out_planes, &out) && literal(&skip_planes, &skip) {
            if out.display() != skip.display() || out_planes != skip_planes {
                self.errors.at(call.head, msg);
                return None;
            }
        } else {
            // Sizes given by `const` items: the compiler compares them.
            let dims = |p: &Planes, d: &Dim| match p {
                Planes::Flat => vec![d.tokens()],
                Planes::Spatial { c, h, w, .. } => vec![c.tokens(), h.tokens(), w.tokens()],
                Planes::Seq { t, f } => vec![t.tokens(), f.tokens()],
            };
            let (x, y) = (dims(&out_planes, &out), dims(&skip_planes, &skip));
            if x.len() != y.len() {
                self.errors.at(call.head, msg);
                return None;
            }
            self.checks.push(ConstCheck {
                condition: quote!(true #(&& #x == #y)*),
                message: msg,
                span: call.head.span(),
            });
        }
        let layer = Layer {
            name,
            span,
            kind: Box::new(Residual { branch, projection }),
            inputs: start,
            outputs: out,
            init: InitKind::Zeros,
            geometry: None,
            step: None,
        };
        Some((layer, out_planes))
    }

    /// `Concat([layers...], [layers...], ...)` or `Sum([...], [...], ...)`: two or more branches over the same
    /// input (an empty branch `[]` passes the input through, a skip connection). `Concat` joins vectors, or planes
    /// of the same size along channels; `Sum` adds outputs of the same shape.
    fn merge(&mut self, call: &Call, name: Ident, span: Span, start: Dim, planes: Planes) -> Option<(Layer, Planes)> {
        let head = call.head.to_string();
        let sum = head == "Sum";
        no_options(call, self.errors);
        if call.positional.len() < 2 {
            self.errors.at(call.head, messages::merge_needs_branches(&head));
            return None;
        }
        let mut branches = Vec::new();
        let mut outs: Vec<(Dim, Planes)> = Vec::new();
        let mut ok = true;
        for e in &call.positional {
            let syn::Expr::Array(list) = ungroup(e) else {
                self.errors.at(e, messages::branch_not_a_list(&head));
                ok = false;
                continue;
            };
            let entries: Vec<(Option<&Ident>, &Expr, Span)> = list.elems.iter().map(|e| (None, e, e.span())).collect();
            let (layers, out, out_planes) = self.sequence(&entries, Some(start.clone()), planes.clone());
            match out {
                Some(out) => {
                    branches.push(layers);
                    outs.push((out, out_planes));
                }
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let shape = |d: &Dim, p: &Planes| match p {
            Planes::Flat => d.display(),
            p => p.describe(),
        };
        let (first, first_planes) = &outs[0];
        let sizes: Vec<Sz> = outs.iter().map(|(d, _)| Sz::from_dim(d)).collect();
        // What must agree between branches: every size for a sum; for a concatenation the plane's length (and
        // height), the channels being what is joined.
        let agreeing = |p: &Planes, d: &Dim| -> Option<Vec<Sz>> {
            match (p, sum) {
                (Planes::Flat, true) => Some(vec![Sz::from_dim(d)]),
                (Planes::Flat, false) => Some(vec![]),
                (Planes::Spatial { c, h, w, .. }, true) => Some(vec![c.clone(), h.clone(), w.clone()]),
                (Planes::Spatial { h, w, .. }, false) => Some(vec![h.clone(), w.clone()]),
                (Planes::Seq { .. }, _) => None,
            }
        };
        for (j, (d, p)) in outs.iter().enumerate().skip(1) {
            let same_kind = match (first_planes, p) {
                (Planes::Flat, Planes::Flat) => true,
                (Planes::Spatial { two_d: a, .. }, Planes::Spatial { two_d: b, .. }) => a == b,
                _ => false,
            };
            let msg =
                messages::branches_differ(&name.to_string(), &shape(first, first_planes), j + 1, &shape(d, p), sum);
            let (Some(a), Some(b), true) = (agreeing(first_planes, first), agreeing(p, d), same_kind) else {
                self.errors.at(call.head, msg);
                return None;
            };
            if a.iter().all(|s| s.lit().is_some()) && b.iter().all(|s| s.lit().is_some()) {
                if a != b {
                    self.errors.at(call.head, msg);
                    return None;
                }
            } else {
                let (x, y) = (a.iter().map(Sz::tokens), b.iter().map(Sz::tokens));
                self.checks.push(ConstCheck {
                    condition: quote!(true #(&& #x == #y)*),
                    message: msg,
                    span: call.head.span(),
                });
            }
        }
        let (outputs, out_planes) = if sum {
            (first.clone(), first_planes.clone())
        } else {
            let total = sizes.iter().skip(1).fold(sizes[0].clone(), |acc, s| acc.add(s));
            // Planes of one size (checked above) joined along their channels.
            let channels = outs
                .iter()
                .filter_map(|(_, p)| match p {
                    Planes::Spatial { c, .. } => Some(c.clone()),
                    _ => None,
                })
                .reduce(|a, b| a.add(&b));
            let out_planes = match (first_planes, channels) {
                (Planes::Spatial { h, w, two_d, .. }, Some(c)) => {
                    Planes::Spatial { c, h: h.clone(), w: w.clone(), two_d: *two_d }
                }
                _ => Planes::Flat,
            };
            (total.to_dim(), out_planes)
        };
        let layer = Layer {
            name,
            span,
            kind: Box::new(Merge { branches, sum, sizes }),
            inputs: start,
            outputs,
            init: InitKind::Zeros,
            geometry: None,
            step: None,
        };
        Some((layer, out_planes))
    }
}

/// Gives the layers from `pending`'s index on, when their input was a sequence, their per-step sizes (unless
/// they set their own): the output planes `out` say what one step of their output holds.
fn annotate_steps(layers: &mut [Layer], pending: Option<(Planes, usize)>, out: &Planes) {
    let Some((Planes::Seq { t, f }, from)) = pending else { return };
    for l in layers.iter_mut().skip(from).filter(|l| l.step.is_none()) {
        let outputs = match out {
            Planes::Seq { f, .. } => f.to_dim(),
            _ => l.outputs.clone(),
        };
        l.step = Some(StepIo { steps: t.clone(), inputs: f.to_dim(), outputs });
    }
}

/// `Reshape(N)`, `Reshape([C, L])` or `Reshape([C, H, W])`: the same values seen as another shape (nothing
/// moves); the element count must not change.
fn reshape(call: &Call, inputs: &Dim, planes: &Planes, errors: &mut Errors) -> Option<Planes> {
    let [target] = call.positional.as_slice() else {
        errors.at(call.head, messages::RESHAPE_ONE_SHAPE);
        return None;
    };
    no_options(call, errors);
    let elems: Vec<&Expr> = match target {
        Expr::Array(a) => a.elems.iter().collect(),
        other => vec![other],
    };
    let mut dims = Vec::new();
    for e in &elems {
        match size(e, part::RESHAPE_DIMENSION, errors)? {
            Dim::Lit(n) => dims.push(n),
            Dim::Const(_) => {
                errors.at(e, messages::RESHAPE_NEEDS_LITERALS);
                return None;
            }
        }
    }
    let count: usize = dims.iter().product();
    let Dim::Lit(have) = inputs else {
        errors.at(target, messages::RESHAPE_INPUT_NOT_LITERAL);
        return None;
    };
    if count != *have {
        let from = match planes {
            Planes::Flat => have.to_string(),
            p => p.describe(),
        };
        errors.at(target, messages::reshape_count_differs(&tokens(target), count, &from, *have));
        return None;
    }
    match dims.as_slice() {
        [_] => Some(Planes::Flat),
        [c, l] => Some(Planes::Spatial { c: Sz::Lit(*c), h: Sz::Lit(1), w: Sz::Lit(*l), two_d: false }),
        [c, h, w] => Some(Planes::Spatial { c: Sz::Lit(*c), h: Sz::Lit(*h), w: Sz::Lit(*w), two_d: true }),
        _ => {
            errors.at(target, messages::RESHAPE_RANK);
            None
        }
    }
}

/// Takes `#[weights = "..."]` out of the attributes that pass through to the struct.
fn weights_attribute(attrs: &[Attribute], errors: &mut Errors) -> (Vec<Attribute>, Option<syn::LitStr>) {
    let mut rest = Vec::new();
    let mut weights = None;
    for a in attrs {
        if !a.path().is_ident("weights") {
            rest.push(a.clone());
            continue;
        }
        match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) if weights.is_none() => weights = Some(s.clone()),
                Expr::Lit(ExprLit { lit: Lit::Str(_), .. }) => errors.at(a, messages::WEIGHTS_TWICE),
                other => errors.at(other, messages::WEIGHTS_NOT_A_PATH),
            },
            _ => errors.at(a, messages::WEIGHTS_MALFORMED),
        }
    }
    (rest, weights)
}

/// An explicit input size must equal the size arriving from the previous layer.
fn check_inputs(
    name: &Ident,
    declared: &Dim,
    tokens_in: &Expr,
    inputs: &Dim,
    prev_name: &str,
    errors: &mut Errors,
    checks: &mut Vec<ConstCheck>,
) {
    match (declared, inputs) {
        (Dim::Lit(d), Dim::Lit(p)) if d != p => {
            errors
                .at(tokens_in, messages::expects_inputs(&name.to_string(), &d.to_string(), &p.to_string(), prev_name));
        }
        (Dim::Lit(_), Dim::Lit(_)) => {}
        _ => {
            let (d, p) = (declared.tokens(), inputs.tokens());
            checks.push(ConstCheck {
                condition: quote!(#d == #p),
                message: messages::expects_inputs(&name.to_string(), &declared.display(), &inputs.display(), prev_name),
                span: tokens_in.span(),
            });
        }
    }
}

/// A drop probability: a literal in `[0, 1)`, or a `const` checked by a `const` assertion.
fn dropout_probability(
    e: &Expr,
    name: &Ident,
    errors: &mut Errors,
    checks: &mut Vec<ConstCheck>,
) -> Option<TokenStream> {
    let p = number(e, errors, &part::drop_probability_of(&name.to_string()))?;
    match p.to_string().parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Some(p),
        Ok(v) => {
            errors.at(e, messages::drop_probability_out_of_range(&name.to_string(), v));
            None
        }
        Err(_) => {
            checks.push(ConstCheck {
                condition: quote!(#p >= 0.0 && #p < 1.0),
                message: messages::const_drop_probability_out_of_range(&name.to_string(), &tokens(e)),
                span: e.span(),
            });
            Some(p)
        }
    }
}

fn check_duplicates(uses: &[NameUse], errors: &mut Errors) {
    // Unnamed activations have no name to clash; everything else does.
    let counts = |u: &NameUse| u.named || u.is_param;
    for (i, u) in uses.iter().enumerate() {
        if !counts(u) {
            continue;
        }
        let Some(first) = uses[..i].iter().find(|f| counts(f) && f.name == u.name) else { continue };
        let mut e = if u.named {
            syn::Error::new(u.name.span(), messages::duplicate_name(&u.name.to_string()))
        } else {
            syn::Error::new(u.span, messages::default_name_taken(&u.name.to_string()))
        };
        e.combine(syn::Error::new(first.name.span(), messages::first_used_here(&u.name.to_string())));
        errors.push(e);
    }
}

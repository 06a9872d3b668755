//! The validated model: every layer with its resolved input and output size and its span. The rules every
//! declaration follows (the input, names, sequences of layers, `#[weights]`) live here, each kind's options and
//! shape rule in its file of [`crate::layers`]; each error is attached to the token it is about, and all errors
//! are collected.

use crate::errors::{Errors, suggest};
use crate::layers::{self, LayerKind};
use crate::messages::{self, part};
use crate::parse::{Entry, NetworkDef};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, Type, UnOp, Visibility};

/// The scalar type a network computes in.
#[derive(Clone, Copy)]
pub enum Scalar {
    /// `f32`, the default.
    F32,
    /// `f64`.
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
    /// A literal size.
    Lit(usize),
    /// A `const` expression, as written.
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

/// How a layer's weights start (`nn_core::Init`).
#[derive(Clone, Copy)]
pub enum InitKind {
    /// Xavier (Glorot) uniform.
    XavierUniform,
    /// Xavier (Glorot) normal.
    XavierNormal,
    /// He (Kaiming) uniform.
    HeUniform,
    /// He (Kaiming) normal.
    HeNormal,
    /// All zero.
    Zeros,
}

/// Every layer name the macro accepts: the layers, then the activations (the registry's order). The `# Grammar`
/// of `network!` documents exactly these (a unit test compares the two).
pub const LAYER_NAMES: &[&str] = layers::NAMES;

/// A validated layer.
pub struct Layer {
    /// The field name (given, or the default `fcN`).
    pub name: Ident,
    /// The whole entry, for spans of generated code.
    pub span: Span,
    /// What kind of layer it is, with what only that kind has.
    pub kind: Box<dyn LayerKind>,
    /// The values in, per sample.
    pub inputs: Dim,
    /// The values out, per sample.
    pub outputs: Dim,
    /// The initialisation to use (resolved from the option or the next activation).
    pub init: InitKind,
    /// For convolutions and pooling: the geometry, over the input (or, transposed, over the output).
    pub geometry: Option<Geometry>,
    /// For layers whose input is a sequence: the steps and the sizes of one step in and out.
    pub step: Option<StepIo>,
    /// The shape of the output as `SUMMARY` shows it (`[4, 7, 7]` for planes), set once the layer is built.
    pub shape: String,
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
            shape: String::new(),
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
    /// The steps of the sequence.
    pub steps: Sz,
    /// The values of one step in.
    pub inputs: Dim,
    /// The values of one step out.
    pub outputs: Dim,
}

/// A size known to the macro (a literal) or only to the compiler (an expression over `const` items).
#[derive(Clone, Debug)]
pub enum Sz {
    /// A literal size.
    Lit(usize),
    /// An expression, and how messages show it.
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
    pub fn operand(&self) -> TokenStream {
        match self {
            Sz::Lit(n) => proc_macro2::Literal::usize_unsuffixed(*n).into_token_stream(),
            Sz::Expr(t, _) => quote!((#t)),
        }
    }

    /// The size as messages show it.
    pub fn display(&self) -> String {
        match self {
            Sz::Lit(n) => n.to_string(),
            Sz::Expr(_, d) => d.clone(),
        }
    }

    /// The size, when the macro knows it.
    pub fn lit(&self) -> Option<usize> {
        match self {
            Sz::Lit(n) => Some(*n),
            Sz::Expr(..) => None,
        }
    }

    /// The size of a [`Dim`].
    pub fn from_dim(d: &Dim) -> Self {
        match d {
            Dim::Lit(n) => Sz::Lit(*n),
            Dim::Const(e) => Sz::Expr(e.to_token_stream(), tokens(e)),
        }
    }

    /// The size as a [`Dim`].
    pub fn to_dim(&self) -> Dim {
        match self {
            Sz::Lit(n) => Dim::Lit(*n),
            Sz::Expr(t, _) => Dim::Const(syn::parse2(quote!((#t))).expect("a parenthesised expression parses")),
        }
    }

    /// The sum of two sizes; `None` when both are literals whose sum does not fit a `usize`.
    pub fn add(&self, other: &Sz) -> Option<Sz> {
        match (self, other) {
            (Sz::Lit(a), Sz::Lit(b)) => a.checked_add(*b).map(Sz::Lit),
            _ => {
                let (a, b) = (self.operand(), other.operand());
                Some(Sz::Expr(quote!(#a + #b), format!("{} + {}", self.display(), other.display())))
            }
        }
    }

    /// The sum of two sizes known to fit: parts of a total the model checked when it was built.
    pub fn add_within(&self, other: &Sz) -> Sz {
        match (self, other) {
            (Sz::Lit(a), Sz::Lit(b)) => Sz::Lit(a.saturating_add(*b)),
            _ => self.add(other).unwrap_or(Sz::Lit(usize::MAX)),
        }
    }

    /// The product of two sizes; `None` when both are literals whose product does not fit a `usize`.
    pub fn mul(&self, other: &Sz) -> Option<Sz> {
        match (self, other) {
            (Sz::Lit(a), Sz::Lit(b)) => a.checked_mul(*b).map(Sz::Lit),
            _ => {
                let (a, b) = (self.operand(), other.operand());
                Some(Sz::Expr(quote!(#a * #b), format!("{} * {}", self.display(), other.display())))
            }
        }
    }
}

/// The product of `factors`, or an error at `at` saying that `layer`'s `what` (the factors shown) is more than a
/// `usize` holds.
pub fn product(factors: &[&Sz], at: impl ToTokens, layer: &str, what: &str, errors: &mut Errors) -> Option<Sz> {
    let total = factors.iter().try_fold(Sz::Lit(1), |acc, f| acc.mul(f));
    if total.is_none() {
        let shown: Vec<String> = factors.iter().map(|f| f.display()).collect();
        errors.at(at, messages::size_overflows(layer, what, &shown.join(" x ")));
    }
    total
}

/// The sum of `parts`, or an error at `at` saying that `layer`'s `what` (the parts shown) is more than a `usize`
/// holds.
pub fn sum(parts: &[Sz], at: impl ToTokens, layer: &str, what: &str, errors: &mut Errors) -> Option<Sz> {
    let (first, rest) = parts.split_first()?;
    let total = rest.iter().try_fold(first.clone(), |acc, p| acc.add(p));
    if total.is_none() {
        let shown: Vec<String> = parts.iter().map(Sz::display).collect();
        errors.at(at, messages::size_overflows(layer, what, &shown.join(" + ")));
    }
    total
}

/// The geometry of a convolution or pooling window, as `nn_core::layer::Geometry` takes it; the plane's size
/// and channels may be `const` expressions, the kernel, stride, padding and dilation are literals.
#[derive(Clone, Debug, PartialEq)]
pub struct Geometry {
    /// The channels of the planes.
    pub channels: Sz,
    /// The planes' height (1 for 1-D planes).
    pub h: Sz,
    /// The planes' width (their length, for 1-D planes).
    pub w: Sz,
    /// The kernel's height.
    pub kh: usize,
    /// The kernel's width.
    pub kw: usize,
    /// The vertical stride.
    pub sh: usize,
    /// The horizontal stride.
    pub sw: usize,
    /// The padding above and below.
    pub ph: usize,
    /// The padding left and right.
    pub pw: usize,
    /// The vertical dilation.
    pub dh: usize,
    /// The horizontal dilation.
    pub dw: usize,
    /// Padding beyond `ph` below and beyond `pw` right (0 or 1): `padding = same` puts an odd pixel of padding
    /// there, as TensorFlow does; only int8 networks take it.
    pub uneven: (usize, usize),
}

/// The shape of the activations between layers: a vector, or channels of 1-D or 2-D planes.
#[derive(Clone, Debug, PartialEq)]
pub enum Planes {
    /// A vector.
    Flat,
    /// `c` channels of planes `h` by `w` (`h` is 1 for 1-D planes), channel-major.
    Spatial {
        /// The channels.
        c: Sz,
        /// The height.
        h: Sz,
        /// The width (the length of 1-D planes).
        w: Sz,
        /// 2-D planes, else 1-D.
        two_d: bool,
    },
    /// A sequence of `t` steps of `f` features, time-major.
    Seq {
        /// The steps.
        t: Sz,
        /// The features of a step.
        f: Sz,
    },
}

impl Planes {
    /// The shape of `values` values laid out as these planes: `[4, 7, 7]`, `[4, 9]`, `Seq(20, 16)`, or the count
    /// of a vector.
    pub fn shape(&self, values: &Dim) -> String {
        match self {
            Planes::Flat => values.display(),
            Planes::Spatial { c, h, w, two_d: true } => format!("[{}, {}, {}]", c.display(), h.display(), w.display()),
            Planes::Spatial { c, w, .. } => format!("[{}, {}]", c.display(), w.display()),
            Planes::Seq { t, f } => format!("Seq({}, {})", t.display(), f.display()),
        }
    }

    /// The shape in words, for messages.
    pub fn describe(&self) -> String {
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
    /// What must hold.
    pub condition: TokenStream,
    /// The compile error when it does not. A [`VALUE`] mark, then an index into `values`, then another mark,
    /// stands for that value as the compiler computes it (`WIDE = 64` where the user wrote `WIDE`).
    pub message: String,
    /// The `const` expressions whose values the message shows.
    pub values: Vec<TokenStream>,
    /// Where the error points.
    pub span: Span,
}

/// Marks a value in a [`ConstCheck`]'s message: `\u{1}0\u{1}` is the first of its `values`.
pub const VALUE: char = '\u{1}';

/// `shown`, as a message of a [`ConstCheck`] shows a size: a literal as it is, a `const` expression followed
/// by ` = ` and its value (the `index`th of the check's values, `dim`'s tokens pushed there).
pub fn with_value(dim: &Dim, values: &mut Vec<TokenStream>) -> String {
    match dim {
        Dim::Lit(n) => n.to_string(),
        Dim::Const(_) => {
            values.push(dim.tokens());
            format!("{} = {VALUE}{}{VALUE}", dim.display(), values.len() - 1)
        }
    }
}

/// The validated network.
pub struct Model {
    /// The attributes and doc comments that pass through to the struct.
    pub attrs: Vec<Attribute>,
    /// `#[weights = "file.safetensors"]`: weights compiled in from this file (relative to the declaring file).
    pub weights: Option<syn::LitStr>,
    /// `#[int8]`: the network is generated in int8 (TFLite's scheme), from an int8 weights file.
    pub int8: bool,
    /// The struct's visibility.
    pub vis: Visibility,
    /// The struct's name.
    pub name: Ident,
    /// The scalar type.
    pub scalar: Scalar,
    /// The values in, per sample.
    pub input: Dim,
    /// Their shape.
    pub input_planes: Planes,
    /// The layers, in order.
    pub layers: Vec<Layer>,
    /// The checks left to the compiler.
    pub checks: Vec<ConstCheck>,
}

/// A declaration the model refuses: its errors, and the sizes a stand-in for it takes, where they are known.
pub struct Rejected {
    /// Every error of the declaration.
    pub errors: syn::Error,
    /// What the stand-in struct (`codegen::fallback`) implements, when the input and output sizes are known.
    pub stand_in: Option<Box<StandIn>>,
}

/// The scalar and sizes of a rejected declaration, as declared or as most likely meant: what its stand-in
/// implements, so that code using the network raises no errors of its own.
pub struct StandIn {
    /// The scalar type.
    pub scalar: Scalar,
    /// The values in.
    pub input: Dim,
    /// The values out.
    pub output: Dim,
    /// On a sequence: the steps, one step's inputs and one step's outputs.
    pub steps: Option<[Dim; 3]>,
    /// For an `#[int8]` declaration: whether it reads its weights at run time (`load`) rather than compiling
    /// them in (`#[weights]`).
    pub int8: Option<bool>,
}

impl StandIn {
    /// The stand-in of a network of `input` values (shaped `planes`) whose layers end in `output` values.
    pub fn new(scalar: Scalar, input: &Dim, output: &Dim, planes: &Planes, layers: &[Layer]) -> Self {
        let steps = match (planes, layers.last()) {
            (Planes::Seq { t, f }, Some(last)) => {
                let step_out = last.step.as_ref().map_or(&last.outputs, |s| &s.outputs);
                Some([t.to_dim(), f.to_dim(), step_out.clone()])
            }
            _ => None,
        };
        StandIn { scalar, input: input.clone(), output: output.clone(), steps, int8: None }
    }

    /// The stand-in of a model that resolved (its weights file or its int8 form were refused).
    pub fn of(m: &Model) -> Self {
        let mut s = Self::new(m.scalar, &m.input, m.output(), &m.input_planes, &m.layers);
        s.int8 = m.int8.then_some(m.weights.is_none());
        s
    }
}

/// A parsed call `Kind(positional..., key = value...)` or bare `Kind`.
pub struct Call<'a> {
    /// The layer name.
    pub head: &'a Ident,
    /// The arguments that are not options, in order.
    pub positional: Vec<&'a Expr>,
    /// The options (`key = value`), in order.
    pub options: Vec<(&'a Ident, &'a Expr)>,
}

/// Reads an entry's expression as a layer call, or reports why it is none.
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

/// Tokens as a user reads them, for messages (`a::B`, not `a :: B`).
pub fn tokens(t: impl ToTokens) -> String {
    t.to_token_stream().to_string().replace(" :: ", "::")
}

/// The expression inside the invisible groups `macro_rules!` wraps around fragments (`$n:literal`, `$e:expr`),
/// so a declaration written by another macro reads like one written by hand.
pub fn ungroup(mut e: &Expr) -> &Expr {
    while let Expr::Group(g) = e {
        e = &g.expr;
    }
    e
}

/// Reads a size: a positive integer literal or a `const` expression.
pub fn size(e: &Expr, what: &str, errors: &mut Errors) -> Option<Dim> {
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
pub fn number(e: &Expr, errors: &mut Errors, what: &str) -> Option<TokenStream> {
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

/// Reads a boolean option: `true` or `false`.
pub fn bool_option(name: &Ident, value: &Expr, errors: &mut Errors) -> Option<bool> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Bool(b), .. }) => Some(b.value),
        other => {
            errors.at(other, messages::not_a_bool(&name.to_string(), &tokens(other)));
            None
        }
    }
}

impl Model {
    /// Validates a declaration; `Err` holds every error found in it.
    pub fn from_def(def: &NetworkDef) -> Result<Self, Rejected> {
        let mut errors = Errors::default();
        if let Some(e) = &def.syntax_errors {
            errors.push(e.clone());
        }
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

        let (attrs, weights, int8) = attributes(&def.attrs, &mut errors);
        let mut builder = Builder {
            errors: &mut errors,
            checks: Vec::new(),
            uses: Vec::new(),
            counts: Vec::new(),
            int8: int8.is_some(),
            depth: 0,
        };
        let entries: Vec<(Option<&Ident>, &Expr, Span)> = layer_entries
            .iter()
            .map(|e| {
                let span = entry_tokens(e).into_iter().map(|t| t.span()).reduce(|a, b| a.join(b).unwrap_or(a));
                (e.name.as_ref(), &e.value, span.unwrap_or_else(Span::call_site))
            })
            .collect();
        let input_planes = planes.clone();
        let (mut layers, output, _) = builder.sequence(&entries, input.clone(), planes);
        let (checks, uses) = (builder.checks, builder.uses);

        // Initialisations chosen by the layers after (He before ReLU-like activations, for dense layers).
        for i in 0..layers.len() {
            if let Some(init) = layers[i].kind.initialisation(&layers[i + 1..]) {
                layers[i].init = init;
            }
        }

        check_duplicates(&uses, &mut errors);
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
        if let Err(errors) = errors.finish() {
            let stand_in = match (&input, &output) {
                (Some(i), Some(o)) => {
                    let mut s = StandIn::new(scalar, i, o, &input_planes, &layers);
                    s.int8 = int8.is_some().then_some(weights.is_none());
                    Some(Box::new(s))
                }
                _ => None,
            };
            return Err(Rejected { errors, stand_in });
        }
        // Every way to lose the input reports why above; this keeps a declaration without one from passing.
        let Some(input) = input else {
            return Err(Rejected { errors: syn::Error::new(def.name.span(), messages::MISSING_INPUT), stand_in: None });
        };
        let int8 = int8.is_some();
        Ok(Model {
            attrs,
            weights,
            int8,
            vis: def.vis.clone(),
            name: def.name.clone(),
            scalar,
            input,
            input_planes,
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

/// An entry as written, for spans.
fn entry_tokens(e: &Entry) -> TokenStream {
    let mut ts = e.name.to_token_stream();
    e.value.to_tokens(&mut ts);
    ts
}

/// The scalar type of `struct NAME<SCALAR>`: `f32` unless given.
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

/// The size of `input: ..`, its shape in `planes`.
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
            let count = product(&[&t, &f], c, "input", part::ITS_VALUES, errors)?.to_dim();
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
            let shape = match dims.as_slice() {
                [c, h, w] => Planes::Spatial { c: c.clone(), h: h.clone(), w: w.clone(), two_d: true },
                [c, l] => Planes::Spatial { c: c.clone(), h: one, w: l.clone(), two_d: false },
                _ => {
                    errors.at(a, messages::input_rank(&tokens(a), a.elems.len()));
                    return None;
                }
            };
            let count = product(&dims.iter().collect::<Vec<_>>(), a, "input", part::ITS_VALUES, errors)?;
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

/// Reports every option of a layer that takes none.
pub fn no_options(call: &Call, errors: &mut Errors) {
    for (opt, _) in &call.options {
        errors.at(opt, messages::no_options(&call.head.to_string(), &opt.to_string()));
    }
}

/// A layer name as declared or defaulted, recorded even when the layer itself has errors.
pub struct NameUse {
    /// The name.
    pub name: Ident,
    /// Whether the declaration gives it (`name: Layer`) rather than the default.
    pub named: bool,
    /// Whether the layer has parameters (then even a default name must be unique).
    pub is_param: bool,
    /// The whole entry.
    pub span: Span,
}

/// Builds and checks a sequence of layers: the network's, or a block's branch.
pub struct Builder<'e> {
    /// Every error of the declaration.
    pub errors: &'e mut Errors,
    /// The checks left to the compiler (sizes given by `const` items).
    pub checks: Vec<ConstCheck>,
    /// Every layer name, for duplicates.
    pub uses: Vec<NameUse>,
    /// Layers declared so far, per counter (`fc`, `conv`, `lstm`, ...), for default names (`fc1`, `lstm1`).
    counts: Vec<(String, usize)>,
    /// Whether the network is declared `#[int8]` (which allows what only the int8 kernels do).
    pub int8: bool,
    /// How many sequences are being built, one inside the other: 1 for the network's own layers, more inside
    /// a block's branch.
    pub depth: usize,
}

/// An entry of a sequence as its kind's builder sees it.
pub struct Decl<'a> {
    /// The name the entry gives its layer (`name: Layer`), if any.
    pub name: Option<&'a Ident>,
    /// The layer as called.
    pub call: &'a Call<'a>,
    /// The whole entry, for spans of generated code.
    pub span: Span,
    /// The size of the values arriving, unless an error before made it unknown.
    pub current: Option<&'a Dim>,
    /// Their shape.
    pub planes: &'a Planes,
    /// The layers before it in its sequence.
    pub before: &'a [Layer],
}

/// What an entry became.
#[allow(clippy::large_enum_variant, reason = "made once per entry and taken apart at once")]
pub enum Built {
    /// Layers, and the size and shape of the values after them.
    Layers(Vec<Layer>, Dim, Planes),
    /// No layer, and the values after it are unknown: an error was reported.
    Unknown,
    /// No layer (an error was reported, or the values arriving were already unknown); the values pass on as
    /// they were.
    Skipped,
}

impl Builder<'_> {
    /// The next number of `counter`, counting from 1: the `N` of a default name such as `fcN`.
    pub fn number(&mut self, counter: &str) -> usize {
        match self.counts.iter_mut().find(|(k, _)| k == counter) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.counts.push((counter.to_string(), 1));
                1
            }
        }
    }

    /// The layers of `entries`, starting from `current` values shaped as `planes`; returns them with the size
    /// and shape of their output (`None` when an error makes it unknown).
    pub fn sequence(
        &mut self,
        entries: &[(Option<&Ident>, &Expr, Span)],
        mut current: Option<Dim>,
        mut planes: Planes,
    ) -> (Vec<Layer>, Option<Dim>, Planes) {
        self.depth += 1;
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
            let Some(kind) = layers::find(call.head) else {
                let head = call.head.to_string();
                let (hint, likely) = match head.to_lowercase().as_str() {
                    "linear" | "fc" => (part::LINEAR_HINT.to_string(), Some("Dense")),
                    "silu" => (part::did_you_mean("Swish"), Some("Swish")),
                    _ => match suggest(&head, LAYER_NAMES) {
                        None => {
                            let activations = layers::ACTIVATION_NAMES;
                            let layers: Vec<&str> =
                                LAYER_NAMES.iter().copied().filter(|n| !activations.contains(n)).collect();
                            (part::every_layer(&layers, activations), None)
                        }
                        Some(s) => (part::did_you_mean(s), Some(s)),
                    },
                };
                self.errors.at(call.head, messages::unknown_layer(&head, &hint));
                // The checks go on with the shape of the layer the name most likely means (its own mistakes
                // unreported: the name's error says what to fix first), or without a known shape.
                let Some(kind) = likely.and_then(|l| layers::find(&Ident::new(l, call.head.span()))) else {
                    current = None;
                    continue;
                };
                let head = Ident::new(likely.unwrap_or_default(), call.head.span());
                let likely_call =
                    Call { head: &head, positional: call.positional.clone(), options: call.options.clone() };
                let decl = Decl {
                    name: entry_name,
                    call: &likely_call,
                    span,
                    current: current.as_ref(),
                    planes: &planes,
                    before: &layers,
                };
                let was = self.errors.mute(true);
                let built = (kind.build)(self, &decl);
                self.errors.mute(was);
                match built {
                    Built::Layers(built, outputs, out_planes) => {
                        layers.extend(built);
                        current = Some(outputs);
                        planes = out_planes;
                    }
                    Built::Unknown => current = None,
                    Built::Skipped => {}
                }
                continue;
            };
            let decl = Decl {
                name: entry_name,
                call: &call,
                span,
                current: current.as_ref(),
                planes: &planes,
                before: &layers,
            };
            match (kind.build)(self, &decl) {
                Built::Layers(mut built, outputs, out_planes) => {
                    for l in &mut built {
                        l.shape = out_planes.shape(&l.outputs);
                    }
                    layers.extend(built);
                    current = Some(outputs);
                    planes = out_planes;
                }
                Built::Unknown => current = None,
                Built::Skipped => {}
            }
        }
        annotate_steps(&mut layers, pending.take(), &planes);
        self.depth -= 1;
        (layers, current, planes)
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

/// Takes `#[weights = "..."]` out of the attributes that pass through to the struct.
/// The attributes the macro reads (`#[weights = ".."]`, `#[int8]`) and the rest, which pass through.
fn attributes(attrs: &[Attribute], errors: &mut Errors) -> (Vec<Attribute>, Option<syn::LitStr>, Option<Attribute>) {
    let mut rest = Vec::new();
    let mut weights = None;
    let mut int8: Option<Attribute> = None;
    for a in attrs {
        if a.path().is_ident("int8") {
            match &a.meta {
                syn::Meta::Path(_) if int8.is_none() => int8 = Some(a.clone()),
                syn::Meta::Path(_) => errors.at(a, messages::INT8_TWICE),
                _ => errors.at(a, messages::INT8_MALFORMED),
            }
            continue;
        }
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
    (rest, weights, int8)
}

/// An explicit input size must equal the size arriving from the previous layer.
pub fn check_inputs(
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
            let mut values = Vec::new();
            let (shown_d, shown_p) = (with_value(declared, &mut values), with_value(inputs, &mut values));
            checks.push(ConstCheck {
                values,
                condition: quote!(#d == #p),
                message: messages::expects_inputs(&name.to_string(), &shown_d, &shown_p, prev_name),
                span: tokens_in.span(),
            });
        }
    }
}

/// Reports every layer name used twice, pointing at both uses.
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

//! Code generation from the validated model. Generated code names only `::nn_core::__private::…` (written
//! `__nn::…` inside the anonymous constant that holds the implementations and binds that alias) and
//! `::core::…`, so nothing the user has in scope can break it.

use crate::embed::Embedded;
use crate::layers::merge::Merge;
use crate::layers::residual::Residual;
use crate::model::{Dim, InitKind, Layer, Model, Scalar, StandIn, Sz};
use crate::parse::NetworkDef;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// The errors, plus a stand-in under the declared name so that later uses of the type do not cascade into
/// errors of their own: where the sizes are known, a unit struct implementing what a generated network implements
/// (`nn_core::__private::rejected_network!`), else a bare unit struct.
pub fn fallback(def: &NetworkDef, errors: syn::Error, stand_in: Option<&StandIn>) -> TokenStream {
    let errors = errors.into_compile_error();
    let (vis, name) = (&def.vis, &def.name);
    let Some(s) = stand_in else {
        return quote! {
            #errors
            #[allow(dead_code)]
            #vis struct #name;
        };
    };
    let (t, i, o) = (s.scalar.tokens(), s.input.tokens(), s.output.tokens());
    if let Some(load) = s.int8 {
        let load = load.then(|| quote!(, load));
        return quote! {
            #errors
            ::nn_core::__private::rejected_network!(int8 #vis #name, #i, #o #load);
        };
    }
    let steps = s.steps.as_ref().map(|[n, si, so]| {
        let (state, n, si, so) = (format_ident!("{}State", name), n.tokens(), si.tokens(), so.tokens());
        quote!(; #state, #n, #si, #so)
    });
    quote! {
        #errors
        ::nn_core::__private::rejected_network!(#vis #name, #t, #i, #o #steps);
    }
}

/// The type of a layer's field in the network struct (layers with parameters only).
fn layer_type(t: &TokenStream, l: &Layer) -> Option<TokenStream> {
    l.kind.field(l, t).map(|f| f.ty)
}

/// A layer's field in the network struct: what code generation needs of a layer with parameters.
pub struct Field {
    /// Its type (`nn_core::layer::Dense<f32, 4, 8>`).
    pub ty: TokenStream,
    /// The statement of `Initialize::init` that initialises it.
    pub init: TokenStream,
    /// The name its tensors appear under.
    pub scope: String,
    /// The constructor `NAME::TRAINED` builds it with from its tensors.
    pub constructor: &'static str,
}

impl Field {
    /// A field of type `ty` under the layer's name, built by `new` and initialised by `init` with the layer's
    /// initialisation.
    pub fn new(l: &Layer, ty: TokenStream) -> Self {
        let (f, k) = (&l.name, init(l.init));
        let init = quote_spanned!(l.span=> self.#f.init(::nn_core::__private::Init::#k, rng););
        Field { ty, init, scope: l.name.to_string(), constructor: "new" }
    }
}

/// A layer as the layer contract sees it: its type (`nn_core::layer::Layer` implementor), the expression that
/// borrows it in `&self` methods, and the gradient sink of the network's `sink` for it.
pub struct Contract {
    /// The type.
    pub ty: TokenStream,
    /// The expression that borrows it in `&self` methods.
    pub value: TokenStream,
    /// The expression that borrows it mutably in `&mut self` methods, for a layer with a field.
    pub value_mut: Option<TokenStream>,
    /// Its gradient sink, for a layer with parameters; a layer without is called through `backward_frozen`.
    pub sink: Option<TokenStream>,
    /// Whether inference applies the activation after it in place, in its forward (`forward_activated`).
    pub fuses: bool,
}

impl Contract {
    /// A layer called through its field.
    pub fn field(l: &Layer, ty: TokenStream) -> Self {
        let f = &l.name;
        Contract {
            ty,
            value: quote_spanned!(l.span=> &self.#f),
            value_mut: Some(quote_spanned!(l.span=> &mut self.#f)),
            sink: Some(quote_spanned!(l.span=> sink.part(|n| &n.#f, |n| &mut n.#f))),
            fuses: false,
        }
    }

    /// A layer without parameters, called through `value`, a constant expression of type `ty`.
    pub fn constant(l: &Layer, ty: TokenStream, value: TokenStream) -> Self {
        Contract { ty, value: quote_spanned!(l.span=> &#value), value_mut: None, sink: None, fuses: false }
    }
}

/// Whether a layer runs one step of a sequence at a time in the generated `step`, and what it carries from one
/// step to the next.
pub enum Streaming {
    /// It mixes steps (flattening a sequence, blocks over it): the network has no streaming form.
    No,
    /// One step at a time, carrying nothing.
    Stateless,
    /// One step at a time, carrying a state: a field of `NAMEState`, with this documentation.
    State(String),
    /// Never one step at a time, whatever the other layers (a bidirectional layer needs the last input first):
    /// `step` exists only to fail to compile with the reason.
    Never,
}

/// A batch of `B` columns of `d` values.
fn matrix(t: &TokenStream, d: &Dim) -> TokenStream {
    let d = d.tokens();
    quote!(::nn_core::__private::SMatrix<#t, #d, __B>)
}

/// The name of an initialisation in `nn_core::Init`.
fn init(k: InitKind) -> TokenStream {
    match k {
        InitKind::XavierUniform => quote!(XavierUniform),
        InitKind::XavierNormal => quote!(XavierNormal),
        InitKind::HeUniform => quote!(HeUniform),
        InitKind::HeNormal => quote!(HeNormal),
        InitKind::Zeros => quote!(Zeros),
    }
}

/// Networks whose inter-layer gradients hold at most this many values per sample keep them in locals during the
/// backward pass instead of in the workspace.
const LOCAL_DELTAS: usize = 64;

/// The code of a validated network, with its weights compiled in when `weights` holds them.
pub fn expand(m: &Model, weights: Option<&Embedded>) -> TokenStream {
    let t = m.scalar.tokens();
    let (vis, name, attrs) = (&m.vis, &m.name, &m.attrs);
    let cache = format_ident!("{}Cache", name);
    let (d_in, d_out) = (m.input.tokens(), m.output().tokens());
    // A first layer that takes only some inputs (token ids) says how to check them.
    let check = m.layers.first().and_then(|l| l.kind.input_check(&t)).map(|c| quote!(, check = |x| #c));
    let (input_batch, output_batch) = (matrix(&t, &m.input), matrix(&t, m.output()));

    // The struct: one field per layer with parameters.
    let fields = m.param_layers().map(|l| {
        let (f, ty) = (&l.name, layer_type(&t, l));
        let mut doc = l.kind.describe(l);
        let idx = m.layers.iter().position(|x| x.name == l.name).unwrap_or(0);
        if let Some(next) = m.layers.get(idx + 1).filter(|n| n.kind.activation(n, &t).is_some()) {
            doc.push_str(&format!(" Followed by `{}`.", next.kind.describe_short(next)));
        }
        quote_spanned!(l.span=> #[doc = #doc] #vis #f: #ty,)
    });

    // Forward, training forward, backward and the cache, wired for the layer sequence (blocks recursively):
    // every layer is called through the layer contract.
    let mut w = Wiring::default();
    let x0 = format_ident!("x0");
    w.matrix(&t, &x0, d_in.clone());
    let (last, last_local) = wire(&t, &m.layers, (&x0, &x0), "", &mut w);
    wire_back(&t, &m.layers, &x0, "", quote!(dy), quote!(dx), &mut w.back);
    let Wiring {
        fwd: steps,
        infer,
        train: train_steps,
        back,
        stats,
        fields: cache_fields,
        deltas: delta_fields,
        delta_values,
    } = w;
    let deltas = format_ident!("{}Deltas", name);
    // Only networks with batch norm (or nesting one) have statistics to fold in; the trait's default does nothing.
    let update_statistics = (!stats.is_empty()).then(|| {
        quote! {
            fn update_statistics<const __B: usize>(&mut self, cache: &Self::BatchCache<__B>) {
                #(#stats)*
            }
        }
    });

    // Parameters and state: each layer's tensors in order, under the layer's name (layers after the first of a
    // recurrent stack under the stack's, `lstm.weight_ih_l1`; a nested network's one scope further in).
    let params: Vec<&Layer> = m.param_layers().collect();
    let part_types = params.iter().rev().fold(quote!(()), |rest, l| {
        let ty = layer_type(&t, l);
        quote!((#ty, #rest))
    });
    let part_refs = |mutable: bool| {
        params.iter().rev().fold(quote!(()), |rest, l| {
            let f = &l.name;
            if mutable { quote!((&mut self.#f, #rest)) } else { quote!((&self.#f, #rest)) }
        })
    };
    let (parts, parts_mut) = (part_refs(false), part_refs(true));
    let names = params.iter().map(|l| {
        let name = l.kind.field(l, &t).map_or_else(|| l.name.to_string(), |field| field.scope);
        let nested = l.kind.network().is_some();
        quote!((#name, #nested))
    });
    // One composition level deeper than the deepest nested network, if there is one.
    let nested: Vec<TokenStream> = params
        .iter()
        .filter(|l| l.kind.network().is_some())
        .map(|l| {
            let ty = layer_type(&t, l);
            quote!(<#ty as ::nn_core::__private::Parameters<#t>>::DEPTH)
        })
        .collect();
    let depth = (!nested.is_empty()).then(|| {
        quote! {
            const DEPTH: usize = {
                let mut deepest = 0;
                #(if #nested > deepest { deepest = #nested; })*
                ::core::assert!(
                    deepest < ::nn_core::__private::MAX_SCOPES,
                    "networks nest at most `nn_core::params::MAX_SCOPES` deep (the levels a parameter name records)"
                );
                deepest + 1
            };
        }
    });

    let inits: Vec<TokenStream> = params.iter().filter_map(|l| l.kind.field(l, &t)).map(|f| f.init).collect();
    // The gradients passed between layers: locals for a network small enough that they fit in registers (in the
    // workspace, the compiler stores and reloads each one: a 2-4-1 training step took 25% longer), the
    // workspace otherwise, so that a large network's backward pass stays off the stack.
    let deltas_in = if delta_values.is_some_and(|n| n <= LOCAL_DELTAS) {
        quote! {
            let ::nn_core::__private::Workspace { cache: c, .. } = cache;
            let d: &mut #deltas<__B> = &mut ::nn_core::__private::bytemuck::Zeroable::zeroed();
        }
    } else {
        quote!(let ::nn_core::__private::Workspace { cache: c, deltas: d } = cache;)
    };
    let unused_rng = inits.is_empty().then(|| quote!(let _ = rng;));

    let checks = m.checks.iter().map(|c| {
        let cond = &c.condition;
        if c.values.is_empty() {
            let msg = &c.message;
            return quote_spanned!(c.span=> const _: () = ::core::assert!(#cond, #msg););
        }
        // The message with the values the compiler computes, put together while it evaluates the check.
        let pieces = c.message.split(crate::model::VALUE).enumerate().map(|(i, piece)| {
            match (i % 2, piece.parse::<usize>().ok().and_then(|v| c.values.get(v))) {
                (1, Some(value)) => quote!(.num(#value)),
                _ => quote!(.text(#piece)),
            }
        });
        quote_spanned!(c.span=> const _: () = {
            const MESSAGE: ::nn_core::__private::ConstMessage = ::nn_core::__private::ConstMessage::new() #(#pieces)*;
            ::core::assert!(#cond, "{}", MESSAGE.as_str());
        };)
    });
    // A nested network computes in this network's scalar (the seam reinterprets its buffers): one error naming
    // both scalar types otherwise (the field then holds a stand-in, so nothing else fails).
    let scalar_checks = m.param_layers().filter_map(|l| l.kind.network()).map(|ty| {
        quote_spanned!(syn::spanned::Spanned::span(ty)=>
            const _: fn() = || {
                fn same_scalar<Nested: ::nn_core::__private::SameScalar<Outer>, Outer>() {}
                same_scalar::<<#ty as ::nn_core::__private::Network>::Scalar, #t>();
            };
        )
    });

    let cache_doc = format!(
        "What [`{name}`]'s training forward keeps for its backward pass, for a batch of `__B` samples (columns), and \
         room for the gradients backward passes between layers: `xN` is the output of the `N`th layer (`x0` the \
         input), `cN` what layer `N` keeps (a dropout mask, batch statistics)."
    );
    let deltas_doc = format!(
        "The gradients [`{name}`]'s backward pass hands from layer to layer, for a batch of `__B` samples: `dN` is \
         dL/d`xN` of [`{cache}`]."
    );
    let summary = std::iter::once(format!("input {}", m.input_planes.shape(&m.input)))
        .chain(m.layers.iter().map(|l| l.kind.describe_short(l)))
        .collect::<Vec<_>>()
        .join(" -> ");
    let summary_doc = format!("The layers, in order: `{summary}`.");
    let trained = weights.map(|w| trained(m, &t, w));
    let streaming = streaming(m, &t);

    // `Clone` comes with every network (generic code bounds on it, `nn_core::train::Trainable`), unless the
    // declaration derives it itself.
    let derive_clone = (!derives_clone(attrs)).then(|| quote!(#[derive(Clone)]));
    let head = quote! {
        #(#checks)*
        #(#scalar_checks)*

        #(#attrs)*
        #derive_clone
        #[derive(::nn_core::__private::bytemuck::Zeroable)]
        #[bytemuck(crate = "::nn_core::__private::bytemuck")]
        #vis struct #name {
            #(#fields)*
        }

        #[doc = #cache_doc]
        #[derive(Clone, Debug, ::nn_core::__private::bytemuck::Zeroable)]
        #[bytemuck(crate = "::nn_core::__private::bytemuck")]
        #[allow(dead_code, missing_docs)]
        #vis struct #cache<const __B: usize> {
            #(#cache_fields)*
        }

        #[doc = #deltas_doc]
        #[derive(Clone, Debug, ::nn_core::__private::bytemuck::Zeroable)]
        #[bytemuck(crate = "::nn_core::__private::bytemuck")]
        #[allow(dead_code, missing_docs)]
        #vis struct #deltas<const __B: usize> {
            #(#delta_fields)*
        }

        #[allow(dead_code)]
        impl #name {
            /// The number of inputs.
            #vis const INPUTS: usize = #d_in;
            /// The number of outputs.
            #vis const OUTPUTS: usize = #d_out;
            #[doc = #summary_doc]
            #vis const SUMMARY: &'static str = #summary;

            /// A network whose parameters are all zero, built on the stack (for small networks; large ones
            /// use `Boxed::boxed_zeroed`).
            #vis fn zeroed() -> Self {
                ::nn_core::__private::bytemuck::Zeroable::zeroed()
            }
        }

        #trained

        #streaming
    };
    // The implementations go in an anonymous constant, where `__nn` stands for `::nn_core::__private` (bound
    // there, so nothing the user has in scope can change what it names).
    let impls = quote! {
        impl ::nn_core::__private::Initialize for #name {
            fn init<R: ::nn_core::__private::Rng + ?Sized>(&mut self, rng: &mut R) {
                #unused_rng
                #(#inits)*
            }
        }

        impl ::nn_core::__private::Composite for #name {
            type Scalar = #t;
            type Parts = #part_types;
            const NAMES: &'static [(&'static str, bool)] = &[#(#names),*];
            #depth

            fn parts(&self) -> ::nn_core::__private::PartsRef<'_, Self> {
                #parts
            }

            fn parts_mut(&mut self) -> ::nn_core::__private::PartsMut<'_, Self> {
                #parts_mut
            }
        }

        impl ::nn_core::__private::BatchNetwork for #name {
            type InputBatch<const __B: usize> = #input_batch;
            type OutputBatch<const __B: usize> = #output_batch;
            type BatchCache<const __B: usize> = ::nn_core::__private::Workspace<#cache<__B>, #deltas<__B>>;

            #[inline]
            fn forward_batch<const __B: usize>(&self, x: &Self::InputBatch<__B>) -> Self::OutputBatch<__B> {
                let x0 = *x;
                #(#steps)*
                #last_local
            }

            #[inline]
            fn forward_batch_in<const __B: usize>(&self, x: &Self::InputBatch<__B>, cache: &mut Self::BatchCache<__B>) -> Self::OutputBatch<__B> {
                let c = &mut cache.cache;
                c.x0.copy_from(x);
                #(#infer)*
                c.#last
            }

            #[inline]
            fn forward_train_batch_in<const __B: usize, R: ::nn_core::__private::Rng + ?Sized>(
                &self,
                x: &Self::InputBatch<__B>,
                cache: &mut Self::BatchCache<__B>,
                rng: &mut R,
            ) -> Self::OutputBatch<__B> {
                let c = &mut cache.cache;
                c.x0.copy_from(x);
                #(#train_steps)*
                c.#last
            }

            #[inline]
            fn backward_batch_in<const __B: usize, S: ::nn_core::__private::Sink<#t, Self>>(
                mut sink: S,
                cache: &mut Self::BatchCache<__B>,
                dy: &Self::OutputBatch<__B>,
                dx: ::nn_core::__private::Option<&mut Self::InputBatch<__B>>,
            ) {
                #deltas_in
                #(#back)*
            }

            #update_statistics
        }

        ::nn_core::__private::network_from_batches!(#name, #t, #d_in, #d_out #check);
    };
    let impls = alias_private(impls);
    quote! {
        #head
        const _: () = {
            use ::nn_core::__private::{self as __nn, Backward as _, Sink as _};
            #impls
        };
    }
}

/// `tokens` with every `::nn_core::__private::` path written `__nn::`, the alias generated code binds.
fn alias_private(tokens: TokenStream) -> TokenStream {
    use proc_macro2::{Group, Span, TokenTree};
    let tt: Vec<TokenTree> = tokens.into_iter().collect();
    let ident = |t: &TokenTree, name: &str| matches!(t, TokenTree::Ident(i) if i == name);
    let colon = |t: &TokenTree| matches!(t, TokenTree::Punct(p) if p.as_char() == ':');
    let mut out = Vec::with_capacity(tt.len());
    let mut i = 0;
    while i < tt.len() {
        let path = tt.len() - i >= 8
            && colon(&tt[i])
            && colon(&tt[i + 1])
            && ident(&tt[i + 2], "nn_core")
            && colon(&tt[i + 3])
            && colon(&tt[i + 4])
            && ident(&tt[i + 5], "__private")
            && colon(&tt[i + 6])
            && colon(&tt[i + 7]);
        if path {
            out.push(TokenTree::Ident(Ident::new("__nn", tt[i + 2].span().resolved_at(Span::call_site()))));
            out.extend_from_slice(&tt[i + 6..i + 8]);
            i += 8;
            continue;
        }
        out.push(match &tt[i] {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), alias_private(g.stream()));
                group.set_span(g.span());
                TokenTree::Group(group)
            }
            t => t.clone(),
        });
        i += 1;
    }
    out.into_iter().collect()
}

/// `NAME::TRAINED`, the network with the weights of the `#[weights]` file as constant data, and an
/// `include_bytes!` of the file so that Cargo rebuilds when it changes.
fn trained(m: &Model, t: &TokenStream, w: &Embedded) -> TokenStream {
    let (vis, name) = (&m.vis, &m.name);
    let number = |v: f64| match m.scalar {
        Scalar::F32 => proc_macro2::Literal::f32_suffixed(v as f32),
        Scalar::F64 => proc_macro2::Literal::f64_suffixed(v),
    };
    // A matrix with `rows` rows from column-major values: `ArrayStorage([[column 0], [column 1], ...])`.
    let storage = |values: &[f64], rows: usize| {
        let columns = values.chunks(rows.max(1)).map(|c| {
            let c = c.iter().map(|&v| number(v));
            quote!([#(#c),*])
        });
        quote!(::nn_core::__private::SMatrix::from_array_storage(::nn_core::__private::ArrayStorage([#(#columns),*])))
    };
    let fields = m.param_layers().zip(&w.layers).map(|(l, tensors)| {
        let f = &l.name;
        let parts = tensors.iter().map(|(v, rows)| storage(v, *rows));
        let Field { ty, constructor, .. } = l.kind.field(l, t).expect("a layer with parameters has a field");
        let constructor = format_ident!("{}", constructor);
        quote!(#f: <#ty>::#constructor(#(#parts),*),)
    });
    let path = w.path.display().to_string();
    let doc = format!("`{}` with the weights of `{}`, compiled in as constant data.", name, w.path.display());
    quote! {
        impl #name {
            #[doc = #doc]
            #vis const TRAINED: Self = Self { #(#fields)* };
        }

        const _: &[u8] = ::core::include_bytes!(#path);
    }
}

/// For a network over a sequence: the constants `STEPS`, `STEP_INPUTS` and `STEP_OUTPUTS`, and, when every layer
/// can run one step at a time, a `NAMEState` type holding the recurrent layers' states and the streaming `step`.
fn streaming(m: &Model, t: &TokenStream) -> Option<TokenStream> {
    let first = m.layers.first()?.step.as_ref()?;
    let (vis, name) = (&m.vis, &m.name);
    let state = format_ident!("{}State", name);
    let last = m.layers.last()?;
    let step_out = last.step.as_ref().map_or(&last.outputs, |s| &s.outputs);
    let (s, i, o) = (first.steps.tokens(), first.inputs.tokens(), step_out.tokens());
    let consts = quote! {
        #[allow(dead_code)]
        impl #name {
            /// The steps of an input sequence.
            #vis const STEPS: usize = #s;
            /// The values of one input step.
            #vis const STEP_INPUTS: usize = #i;
            /// The values of the output for one step (of the last step, for a network that returns only that).
            #vis const STEP_OUTPUTS: usize = #o;
        }
    };
    let (mut code, mut fields, mut zeros) = (Vec::new(), Vec::new(), Vec::new());
    let mut inp = format_ident!("s0");
    for (n, l) in m.layers.iter().enumerate() {
        let out = format_ident!("s{}", n + 1);
        let f = &l.name;
        // Layers that mix steps (flattening a sequence, blocks over it) have no streaming form.
        let streaming = l.kind.streaming(l);
        if let Streaming::No = streaming {
            return Some(consts);
        }
        if let Streaming::Never = streaming {
            return Some(no_streaming(m, t, &consts));
        }
        let Contract { ty, value, .. } = l.kind.contract(l, t);
        let (si, so) = l
            .step
            .as_ref()
            .map_or((l.inputs.tokens(), l.outputs.tokens()), |s| (s.inputs.tokens(), s.outputs.tokens()));
        let stream = quote_spanned!(l.span=> <#ty as ::nn_core::__private::Stream<#t, #si, #so>>);
        let state = if let Streaming::State(doc) = streaming {
            fields.push(quote!(#[doc = #doc] #vis #f: #stream::State,));
            zeros.push(quote!(#f: ::nn_core::__private::bytemuck::Zeroable::zeroed(),));
            quote!(&mut state.#f)
        } else {
            quote!(&mut ())
        };
        code.push(quote_spanned!(l.span=> let #out = #stream::step(#value, #state, &#inp);));
        inp = out;
    }
    if fields.is_empty() {
        return Some(consts);
    }
    let state_doc = format!(
        "The state [`{name}::step`] carries from one step to the next: every recurrent layer's hidden (and cell) \
         vector. Starts at zero, as a sequence does."
    );
    Some(quote! {
        #consts

        #[doc = #state_doc]
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[allow(dead_code)]
        #vis struct #state {
            #(#fields)*
        }

        impl ::core::default::Default for #state {
            fn default() -> Self {
                Self { #(#zeros)* }
            }
        }

        #[allow(dead_code)]
        impl #state {
            /// The zero state: the start of a sequence.
            #vis fn new() -> Self {
                ::core::default::Default::default()
            }

            /// Back to the zero state, to start a new sequence.
            #vis fn reset(&mut self) {
                *self = Self::new();
            }
        }

        #[allow(dead_code)]
        impl #name {
            /// Streaming inference: one input step in, that step's output out, `state` carried to the next call.
            /// Allocates nothing. From a fresh (or reset) state, the outputs of `STEPS` calls are those of
            /// `forward` on the whole sequence: every step's, or, for a network that returns only its last step,
            /// the last call's.
            #[inline]
            #vis fn step(
                &self,
                state: &mut #state,
                x: &::nn_core::__private::SVector<#t, #i>,
            ) -> ::nn_core::__private::SVector<#t, #o> {
                let s0 = *x;
                #(#code)*
                #inp
            }
        }
    })
}

/// For a network that reads its sequence both ways: the constants, an empty `NAMEState`, and a `step` that
/// fails to compile wherever it is called, saying why (`NoStreamingStep`'s message).
fn no_streaming(m: &Model, t: &TokenStream, consts: &TokenStream) -> TokenStream {
    let (vis, name) = (&m.vis, &m.name);
    let state = format_ident!("{}State", name);
    let (Some(first), Some(last)) = (m.layers.first(), m.layers.last()) else { return consts.clone() };
    let i = first.step.as_ref().map_or(&first.inputs, |s| &s.inputs).tokens();
    let o = last.step.as_ref().map_or(&last.outputs, |s| &s.outputs).tokens();
    let doc =
        format!("`{name}` reads its sequence in both directions, so it has no streaming state: see [`{name}::step`].");
    quote! {
        #consts

        #[doc = #doc]
        #[derive(Clone, Copy, Debug, Default, PartialEq)]
        #[allow(dead_code)]
        #vis struct #state;

        #[allow(dead_code)]
        impl #state {
            /// The (empty) state.
            #vis fn new() -> Self {
                Self
            }
        }

        #[allow(dead_code)]
        impl #name {
            /// No streaming inference: a bidirectional recurrent layer's first output needs the sequence's
            /// last input, so any call fails to compile with that reason. `forward` reads the whole sequence.
            #vis fn step<S: ::nn_core::__private::NoStreamingStep>(
                &self,
                state: &mut S,
                x: &::nn_core::__private::SVector<#t, #i>,
            ) -> ::nn_core::__private::SVector<#t, #o> {
                let _ = (state, x);
                S::refused()
            }
        }
    }
}

/// The generated code of a network's layers: inference statements (values are locals), training-forward and
/// backward statements (values are fields of `cache`), statistics updates, and the cache's fields.
struct Wiring {
    /// Inference.
    fwd: Vec<TokenStream>,
    /// Inference into the cache (every layer's output in a field).
    infer: Vec<TokenStream>,
    /// Training forward.
    train: Vec<TokenStream>,
    /// Backward, from the last layer to the first.
    back: Vec<TokenStream>,
    /// Statistics updates.
    stats: Vec<TokenStream>,
    /// The fields of the cache.
    fields: Vec<TokenStream>,
    /// The fields of the gradient buffers.
    deltas: Vec<TokenStream>,
    /// How many values per sample the gradient buffers hold, when every size is a literal.
    delta_values: Option<usize>,
}

impl Default for Wiring {
    fn default() -> Self {
        let (fwd, infer, train, back, stats, fields, deltas) = Default::default();
        Wiring { fwd, infer, train, back, stats, fields, deltas, delta_values: Some(0) }
    }
}

impl Wiring {
    /// A field of the cache: a matrix of `rows` values per sample.
    fn matrix(&mut self, t: &TokenStream, name: &Ident, rows: TokenStream) {
        self.fields.push(quote!(pub #name: ::nn_core::__private::SMatrix<#t, #rows, __B>,));
    }

    /// A gradient buffer: a matrix of `rows` values per sample.
    fn delta(&mut self, t: &TokenStream, name: &Ident, rows: &Dim) {
        self.delta_values = match (self.delta_values, rows) {
            (Some(n), Dim::Lit(r)) => n.checked_add(*r),
            _ => None,
        };
        let rows = rows.tokens();
        self.deltas.push(quote!(pub #name: ::nn_core::__private::SMatrix<#t, #rows, __B>,));
    }
}

/// The expression for a layer's cache: its field, or `()`.
fn kept(l: &Layer, c: &Ident) -> TokenStream {
    if l.kind.keeps() { quote!(&mut c.#c) } else { quote!(&mut ()) }
}

/// `Layer::<T, I, O>`, the contract a layer is called through where its value names its type.
fn layer_path(t: &TokenStream, l: &Layer) -> TokenStream {
    let (i, o) = (l.inputs.tokens(), l.outputs.tokens());
    quote_spanned!(l.span=> ::nn_core::__private::Layer::<#t, #i, #o>)
}

/// `<Type as Layer<T, I, O>>`, a layer's contract.
fn as_layer(t: &TokenStream, l: &Layer, ty: &TokenStream) -> TokenStream {
    let (i, o) = (l.inputs.tokens(), l.outputs.tokens());
    quote_spanned!(l.span=> <#ty as ::nn_core::__private::Layer<#t, #i, #o>>)
}

/// Forward code and cache fields for `layers` reading `input` (a cache field, and the local that holds its value
/// in inference);
/// the output of layer `i` is `{prefix}x{i+1}`, what it keeps `{prefix}c{i}`, and the gradient of its output
/// `{prefix}d{i+1}` (except the last, whose gradient the caller holds). Returns the output's name, and the name of
/// the local that holds it in inference (an earlier one where an activation was fused into its layer).
fn wire(t: &TokenStream, layers: &[Layer], input: (&Ident, &Ident), prefix: &str, w: &mut Wiring) -> (Ident, Ident) {
    let (mut inp, mut local) = (input.0.clone(), input.1.clone());
    // Inference fuses a dense layer with the activation after it (in place on the layer's output buffer).
    let mut fused = false;
    for (i, l) in layers.iter().enumerate() {
        let out = format_ident!("{}x{}", prefix, i + 1);
        let c = format_ident!("{}c{}", prefix, i);
        let was_fused = core::mem::take(&mut fused);
        let mut out_local = out.clone();
        if let Some(Residual { branch, projection }) = l.kind_as::<Residual>() {
            let q = format!("{prefix}r{i}_");
            let (b, b_local) = wire(t, branch, (&inp, &local), &q, w);
            let (skip, skip_local) = match projection {
                Some(p) => wire(t, core::slice::from_ref(p.as_ref()), (&inp, &local), &format!("{prefix}r{i}p_"), w),
                None => (inp.clone(), local.clone()),
            };
            w.fwd.push(quote_spanned!(l.span=>
                let mut #out = #b_local;
                ::nn_core::__private::add_assign(&mut #out, &#skip_local);
            ));
            let add = quote_spanned!(l.span=>
                c.#out.copy_from(&c.#b);
                ::nn_core::__private::add_assign(&mut c.#out, &c.#skip);
            );
            w.infer.push(add.clone());
            w.train.push(add);
            w.delta(t, &format_ident!("{}dx", q), &l.inputs);
            if projection.is_some() {
                w.delta(t, &format_ident!("{}r{}p_dx", prefix, i), &l.inputs);
            }
        } else if let Some(Merge { branches, sum, sizes }) = l.kind_as::<Merge>() {
            let (outs, locals): (Vec<Ident>, Vec<Ident>) = branches
                .iter()
                .enumerate()
                .map(|(j, b)| wire(t, b, (&inp, &local), &format!("{prefix}m{i}b{j}_"), w))
                .unzip();
            w.fwd.extend(merge_forward(t, *sum, &locals, sizes, &out, false));
            w.infer.extend(merge_forward(t, *sum, &outs, sizes, &out, true));
            w.train.extend(merge_forward(t, *sum, &outs, sizes, &out, true));
            for j in 0..branches.len() {
                w.delta(t, &format_ident!("{}m{}b{}_dx", prefix, i, j), &l.inputs);
            }
        } else {
            let Contract { ty, value, value_mut, fuses, .. } = l.kind.contract(l, t);
            let (layer, call) = (as_layer(t, l, &ty), layer_path(t, l));
            let next_activation = layers.get(i + 1).filter(|_| fuses).and_then(|next| next.kind.activation(next, t));
            match (was_fused, next_activation) {
                (true, _) => out_local = local.clone(),
                (false, Some(a)) => {
                    fused = true;
                    w.fwd.push(quote_spanned!(l.span=> let #out = #call::forward_activated(#value, &#local, &#a);));
                }
                (false, None) => w.fwd.push(quote_spanned!(l.span=> let #out = #call::forward(#value, &#local);)),
            }
            let kept = kept(l, &c);
            w.infer.push(quote_spanned!(l.span=> #call::forward_into(#value, &c.#inp, &mut c.#out);));
            w.train.push(quote_spanned!(l.span=>
                #call::forward_train(#value, &c.#inp, &mut c.#out, #kept, rng);
            ));
            if l.kind.keeps() {
                w.fields.push(quote!(pub #c: #layer::Cache<__B>,));
            }
            if let (true, Some(this)) = (l.kind.keeps(), value_mut) {
                w.stats.push(quote_spanned!(l.span=> #call::update_statistics::<__B>(#this, &cache.cache.#c);));
            }
        }
        w.matrix(t, &out, l.outputs.tokens());
        if i + 1 < layers.len() {
            w.delta(t, &format_ident!("{}d{}", prefix, i + 1), &l.outputs);
        }
        inp = out;
        local = out_local;
    }
    (inp, local)
}

/// Backward code for `layers` (as wired by [`wire`] from `input`): `dy` is an expression for dL/d(output),
/// `dx` one for where dL/d(input) goes (an `Option<&mut ..>`).
fn wire_back(
    t: &TokenStream,
    layers: &[Layer],
    input: &Ident,
    prefix: &str,
    dy: TokenStream,
    dx: TokenStream,
    back: &mut Vec<TokenStream>,
) {
    for (i, l) in layers.iter().enumerate().rev() {
        let xin = if i == 0 { input.clone() } else { format_ident!("{}x{}", prefix, i) };
        let xout = format_ident!("{}x{}", prefix, i + 1);
        let c = format_ident!("{}c{}", prefix, i);
        let d = if i + 1 == layers.len() {
            dy.clone()
        } else {
            let d = format_ident!("{}d{}", prefix, i + 1);
            quote!(&d.#d)
        };
        let dx = if i == 0 {
            dx.clone()
        } else {
            let d = format_ident!("{}d{}", prefix, i);
            quote!(::nn_core::__private::Some(&mut d.#d))
        };
        if let Some(Residual { branch, projection }) = l.kind_as::<Residual>() {
            let (q, qp) = (format!("{prefix}r{i}_"), format!("{prefix}r{i}p_"));
            let (bdx, pdx) = (format_ident!("{}dx", q), format_ident!("{}dx", qp));
            let some = |f: &Ident| quote!(::nn_core::__private::Some(&mut d.#f));
            wire_back(t, branch, &xin, &q, d.clone(), some(&bdx), back);
            let skip = match projection {
                Some(p) => {
                    wire_back(t, core::slice::from_ref(p.as_ref()), &xin, &qp, d.clone(), some(&pdx), back);
                    quote!(&d.#pdx)
                }
                None => d.clone(),
            };
            back.push(quote_spanned!(l.span=>
                if let ::nn_core::__private::Some(dx) = #dx {
                    dx.copy_from(&d.#bdx);
                    ::nn_core::__private::add_assign(dx, #skip);
                }
            ));
        } else if let Some(Merge { branches, sum, sizes }) = l.kind_as::<Merge>() {
            let (mut code, grads) = merge_backward(t, *sum, &d, sizes, &format!("{prefix}m{i}_"));
            let mut dxs = Vec::new();
            for (j, (b, g)) in branches.iter().zip(&grads).enumerate() {
                let bdx = format_ident!("{}m{}b{}_dx", prefix, i, j);
                if b.is_empty() {
                    dxs.push(g.clone());
                } else {
                    let q = format!("{prefix}m{i}b{j}_");
                    wire_back(t, b, &xin, &q, g.clone(), quote!(::nn_core::__private::Some(&mut d.#bdx)), &mut code);
                    dxs.push(quote!(&d.#bdx));
                }
            }
            let (first, rest) = (&dxs[0], &dxs[1..]);
            code.push(quote_spanned!(l.span=>
                if let ::nn_core::__private::Some(dx) = #dx {
                    dx.copy_from(#first);
                    #(::nn_core::__private::add_assign(dx, #rest);)*
                }
            ));
            back.push(quote_spanned!(l.span=> { #(#code)* }));
        } else {
            let Contract { value, sink, .. } = l.kind.contract(l, t);
            let kept = kept(l, &c);
            back.push(match sink {
                Some(sink) => quote_spanned!(l.span=> #sink.backward(&c.#xin, &c.#xout, #kept, #d, #dx);),
                None => quote_spanned!(l.span=>
                    ::nn_core::__private::backward_frozen(#value, &c.#xin, &c.#xout, #kept, #d, #dx);
                ),
            });
        }
    }
}

/// The statements that merge branch outputs `outs` into `out` (locals, or fields of `cache` in training):
/// pairwise concatenations (sizes `sizes`), or sums.
fn merge_forward(
    t: &TokenStream,
    sum: bool,
    outs: &[Ident],
    sizes: &[Sz],
    out: &Ident,
    train: bool,
) -> Vec<TokenStream> {
    let at = |id: &Ident| if train { quote!(c.#id) } else { quote!(#id) };
    let (first, rest) = (at(&outs[0]), outs[1..].iter().map(&at));
    if sum {
        let (target, out) = if train { (quote!(c.#out), quote!(c.#out)) } else { (quote!(let mut #out), quote!(#out)) };
        let mut stmts = vec![quote!(#target = #first;)];
        stmts.extend(rest.map(|r| quote!(::nn_core::__private::add_assign(&mut #out, &#r);)));
        return stmts;
    }
    let target = if train { quote!(c.#out) } else { quote!(let #out) };
    let mut stmts = Vec::new();
    let (mut acc, mut acc_size) = (first, sizes[0].clone());
    for (j, o) in outs.iter().enumerate().skip(1) {
        let total = acc_size.add_within(&sizes[j]);
        let (ra, rb, r, o) = (acc_size.tokens(), sizes[j].tokens(), total.tokens(), at(o));
        let value = quote!(::nn_core::__private::concat::<#t, #ra, #rb, #r, __B>(&#acc, &#o));
        if j + 1 == outs.len() {
            stmts.push(quote!(#target = #value;));
        } else {
            let next = format_ident!("{}_cat{}", out, j);
            stmts.push(quote!(let #next = #value;));
            acc = quote!(#next);
        }
        acc_size = total;
    }
    stmts
}

/// The gradient of each branch of a merge from the merged output's gradient `d` (an expression for a
/// reference): the same `d` for a sum, the matching rows for a concatenation (split off from the end, pairwise,
/// into locals).
fn merge_backward(
    t: &TokenStream,
    sum: bool,
    d: &TokenStream,
    sizes: &[Sz],
    prefix: &str,
) -> (Vec<TokenStream>, Vec<TokenStream>) {
    if sum {
        return (Vec::new(), vec![d.clone(); sizes.len()]);
    }
    let mut prefix_sizes = vec![sizes[0].clone()];
    for s in &sizes[1..] {
        let last = prefix_sizes.last().cloned().unwrap_or(Sz::Lit(0));
        prefix_sizes.push(last.add_within(s));
    }
    let mut stmts = Vec::new();
    let mut grads = vec![d.clone(); sizes.len()];
    let mut acc = d.clone();
    for j in (1..sizes.len()).rev() {
        let (head, tail) = (format_ident!("{}dhead{}", prefix, j), format_ident!("{}d{}", prefix, j));
        let (ra, rb, r) = (prefix_sizes[j - 1].tokens(), sizes[j].tokens(), prefix_sizes[j].tokens());
        stmts.push(quote!(let (#head, #tail) = ::nn_core::__private::split::<#t, #ra, #rb, #r, __B>(#acc);));
        grads[j] = quote!(&#tail);
        acc = quote!(&#head);
    }
    grads[0] = acc;
    (stmts, grads)
}

/// Whether `attrs` hold a `#[derive(..)]` naming `Clone`.
fn derives_clone(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().filter(|a| a.path().is_ident("derive")).any(|a| {
        a.parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
            .is_ok_and(|paths| paths.iter().any(|p| p.segments.last().is_some_and(|s| s.ident == "Clone")))
    })
}

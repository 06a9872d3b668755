//! Code generation from the validated model. Generated code names only `::nn_core::__private::…` and
//! `::core::…`, so nothing the user has in scope can break it.

use crate::embed::Embedded;
use crate::model::{ActKind, CellKind, Dim, InitKind, Kind, Layer, Model, Scalar, Sz};
use crate::parse::NetworkDef;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

/// The errors, plus a unit struct of the declared name so that later uses of the type do not cascade into
/// errors of their own.
pub fn fallback(def: &NetworkDef, errors: syn::Error) -> TokenStream {
    let errors = errors.into_compile_error();
    let (vis, name) = (&def.vis, &def.name);
    quote! {
        #errors
        #vis struct #name;
    }
}

fn scalar(s: Scalar) -> TokenStream {
    match s {
        Scalar::F32 => quote!(f32),
        Scalar::F64 => quote!(f64),
    }
}

fn layer_type(t: &TokenStream, l: &Layer) -> Option<TokenStream> {
    // A dense layer on a sequence is sized by one step.
    let (i, o) = match (&l.kind, &l.step) {
        (Kind::Dense { .. }, Some(s)) => (s.inputs.tokens(), s.outputs.tokens()),
        _ => (l.inputs.tokens(), l.outputs.tokens()),
    };
    match &l.kind {
        Kind::Dense { bias: true, .. } => Some(quote!(::nn_core::__private::Dense<#t, #i, #o>)),
        Kind::Dense { bias: false, .. } => Some(quote!(::nn_core::__private::DenseNoBias<#t, #i, #o>)),
        Kind::BatchNorm => Some(match &l.geometry {
            Some(g) => {
                let c = g.channels.tokens();
                quote!(::nn_core::__private::BatchNorm<#t, #c>)
            }
            None => quote!(::nn_core::__private::BatchNorm<#t, #o>),
        }),
        Kind::Conv { transposed, two_d, in_channels, out } => {
            let g = l.geometry.as_ref()?;
            let lit = proc_macro2::Literal::usize_unsuffixed;
            let (ci, co, kh, kw) = (in_channels.tokens(), out.tokens(), lit(g.kh), lit(g.kw));
            let per = Sz::Lit(g.kh * g.kw);
            Some(match (*transposed, *two_d) {
                (false, true) => {
                    let k = in_channels.mul(&per).tokens();
                    quote!(::nn_core::__private::Conv2d<#t, #co, #k, #kh, #kw>)
                }
                (false, false) => {
                    let k = in_channels.mul(&per).tokens();
                    quote!(::nn_core::__private::Conv1d<#t, #co, #k, #kw>)
                }
                (true, true) => {
                    let k = out.mul(&per).tokens();
                    quote!(::nn_core::__private::ConvTranspose2d<#t, #ci, #k, #co, #kh, #kw>)
                }
                (true, false) => {
                    let k = out.mul(&per).tokens();
                    quote!(::nn_core::__private::ConvTranspose1d<#t, #ci, #k, #co, #kw>)
                }
            })
        }
        Kind::Recurrent { cell, input, hidden, index, .. } => {
            let (i, h, g) = (input.tokens(), hidden.tokens(), Sz::Lit(cell.gates()).mul(hidden).tokens());
            let l = proc_macro2::Literal::usize_unsuffixed(*index);
            Some(match cell {
                CellKind::Rnn(a) => {
                    let a = activation_type(t, *a);
                    quote!(::nn_core::__private::Rnn<#t, #i, #h, #a, #l>)
                }
                CellKind::Lstm => quote!(::nn_core::__private::Lstm<#t, #i, #h, #g, #l>),
                CellKind::Gru => quote!(::nn_core::__private::Gru<#t, #i, #h, #g, #l>),
            })
        }
        Kind::Nested { ty } => Some(quote!(#ty)),
        Kind::Activation { .. }
        | Kind::Dropout { .. }
        | Kind::Pool { .. }
        | Kind::Flatten
        | Kind::Maxout { .. }
        | Kind::NoisyRelu
        | Kind::Merge { .. }
        | Kind::Residual { .. } => None,
    }
}

/// The type of an activation with its default parameter (a recurrent layer's).
fn activation_type(t: &TokenStream, kind: ActKind) -> TokenStream {
    let ident = format_ident!("{}", kind.name());
    match kind {
        ActKind::LeakyRelu | ActKind::Elu => quote!(::nn_core::__private::#ident<#t>),
        _ => quote!(::nn_core::__private::#ident),
    }
}

/// A layer's activation value; softmax on a sequence normalises each step.
fn layer_activation(t: &TokenStream, l: &Layer, kind: ActKind, param: Option<&TokenStream>) -> TokenStream {
    match (kind, &l.step) {
        (ActKind::Softmax, Some(s)) => {
            let f = s.inputs.tokens();
            quote_spanned!(l.span=> ::nn_core::__private::SoftmaxSteps::<#f>)
        }
        _ => activation(t, kind, param, l.span),
    }
}

/// `&Geometry { .. }` of a convolution or pooling layer, as a constant.
fn geometry(l: &Layer) -> TokenStream {
    let Some(g) = &l.geometry else { return quote!(&::nn_core::__private::Geometry::new1d(0, 0, 0, 0, 0, 0)) };
    let (channels, h, w) = (g.channels.tokens(), g.h.tokens(), g.w.tokens());
    let [kh, kw, sh, sw, ph, pw, dh, dw] =
        [g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw].map(proc_macro2::Literal::usize_unsuffixed);
    quote!(&::nn_core::__private::Geometry { channels: #channels, h: #h, w: #w, kh: #kh, kw: #kw, sh: #sh, sw: #sw, ph: #ph, pw: #pw, dh: #dh, dw: #dw })
}

/// `Pool::Max` or `Pool::Avg`.
fn pool(max: bool) -> TokenStream {
    if max { quote!(::nn_core::__private::Pool::Max) } else { quote!(::nn_core::__private::Pool::Avg) }
}

fn matrix(t: &TokenStream, d: &Dim) -> TokenStream {
    let d = d.tokens();
    quote!(::nn_core::__private::SMatrix<#t, #d, B>)
}

fn activation(t: &TokenStream, kind: ActKind, param: Option<&TokenStream>, span: Span) -> TokenStream {
    let ident = format_ident!("{}", kind.name(), span = span);
    match (kind, param) {
        (ActKind::LeakyRelu | ActKind::Elu, Some(p)) => quote_spanned!(span=> ::nn_core::__private::#ident::<#t>(#p)),
        (ActKind::LeakyRelu | ActKind::Elu, None) => {
            quote_spanned!(span=> <::nn_core::__private::#ident<#t> as ::core::default::Default>::default())
        }
        _ => quote_spanned!(span=> ::nn_core::__private::#ident),
    }
}

fn init(k: InitKind) -> TokenStream {
    match k {
        InitKind::XavierUniform => quote!(XavierUniform),
        InitKind::XavierNormal => quote!(XavierNormal),
        InitKind::HeUniform => quote!(HeUniform),
        InitKind::HeNormal => quote!(HeNormal),
        InitKind::Zeros => quote!(Zeros),
    }
}

fn describe(l: &Layer) -> String {
    match &l.kind {
        Kind::Dense { bias, .. } => format!(
            "Layer `{}`: dense, {} inputs to {} outputs (`weight` is {} x {}{}).",
            l.name,
            l.inputs.display(),
            l.outputs.display(),
            l.outputs.display(),
            l.inputs.display(),
            if *bias { format!(", `bias` has {}", l.outputs.display()) } else { ", no bias".to_string() }
        ),
        Kind::BatchNorm => format!(
            "Layer `{}`: batch normalisation of {} features (`weight` is gamma, `bias` is beta; running statistics \
             for inference).",
            l.name,
            l.outputs.display()
        ),
        Kind::Activation { kind, .. } => format!("`{}`", kind.name()),
        Kind::Dropout { p } => format!("`Dropout({p})`"),
        Kind::Conv { transposed, in_channels, out, .. } => {
            let g = l.geometry.as_ref().map_or((0, 0), |g| (g.kh, g.kw));
            format!(
                "Layer `{}`: {}convolution, {} to {} channels, kernel {}x{} ({} inputs to {} outputs).",
                l.name,
                if *transposed { "transposed " } else { "" },
                in_channels.display(),
                out.display(),
                g.0,
                g.1,
                l.inputs.display(),
                l.outputs.display()
            )
        }
        Kind::Pool { max } => format!("`{}Pool`", if *max { "Max" } else { "Avg" }),
        Kind::Flatten => "`Flatten`".to_string(),
        Kind::Maxout { pieces } => format!("`Maxout({})`", pieces.display()),
        Kind::NoisyRelu => "`NoisyRelu`".to_string(),
        Kind::Merge { branches, sum, .. } => {
            format!("`{}`: {} of {} branches", l.name, if *sum { "sum" } else { "concatenation" }, branches.len())
        }
        Kind::Nested { ty } => {
            let ty = quote::ToTokens::to_token_stream(ty).to_string().replace(' ', "");
            format!(
                "Network `{}`: a [`{ty}`] used as a layer ({} inputs to {} outputs); its parameters are named \
                 `{}.<layer>.<tensor>`.",
                l.name,
                l.inputs.display(),
                l.outputs.display(),
                l.name
            )
        }
        Kind::Residual { .. } => format!("`{}`: residual block", l.name),
        Kind::Recurrent { cell, steps, input, hidden, last, index, module, .. } => {
            let g = Sz::Lit(cell.gates()).mul(hidden).display();
            let prefix = module.as_ref().map_or_else(|| l.name.to_string(), |m| format!("{m}"));
            format!(
                "Layer `{}`: {}, {} steps of {} inputs, {} hidden units, returns {} (`{prefix}.weight_ih_l{index}` \
                 is {g} x {}, `weight_hh_l{index}` {g} x {}, biases `bias_ih_l{index}` and `bias_hh_l{index}`).",
                l.name,
                match cell {
                    CellKind::Rnn(a) => format!("RNN ({})", a.name()),
                    CellKind::Lstm => "LSTM".to_string(),
                    CellKind::Gru => "GRU".to_string(),
                },
                steps.display(),
                input.display(),
                hidden.display(),
                if *last { "the last step" } else { "every step" },
                input.display(),
                hidden.display(),
            )
        }
    }
}

pub fn expand(m: &Model, weights: Option<&Embedded>) -> TokenStream {
    let t = scalar(m.scalar);
    let (vis, name, attrs) = (&m.vis, &m.name, &m.attrs);
    let cache = format_ident!("{}Cache", name);
    let (d_in, d_out) = (m.input.tokens(), m.output().tokens());
    let (input_batch, output_batch) = (matrix(&t, &m.input), matrix(&t, m.output()));

    // The struct: one field per layer with parameters.
    let fields = m.param_layers().map(|l| {
        let (f, ty) = (&l.name, layer_type(&t, l));
        let mut doc = describe(l);
        let idx = m.layers.iter().position(|x| x.name == l.name).unwrap_or(0);
        if let Some(Kind::Activation { kind, .. }) = m.layers.get(idx + 1).map(|n| &n.kind) {
            doc.push_str(&format!(" Followed by `{}`.", kind.name()));
        }
        quote_spanned!(l.span=> #[doc = #doc] #vis #f: #ty,)
    });

    // Forward, training forward, backward and the cache, generated for the layer sequence (residual branches
    // recursively): every value is a named local, and the training cache keeps them all.
    let mut seq = Seq::default();
    let x0 = format_ident!("x0");
    seq.fields.push(quote!(#[doc = "The network's input."] #vis #x0: #input_batch,));
    seq.names.push(x0.clone());
    let last = gen_forward(&t, vis, &m.layers, &x0, "", &mut seq);
    let d_last = format_ident!("d_out");
    let d_first = gen_backward(&t, &m.layers, &x0, "", &d_last, &mut seq, false);
    // Plain SGD fused into the backward pass: the same statements with each layer's update in place.
    let mut sgd_seq = Seq::default();
    let d_first_sgd = gen_backward(&t, &m.layers, &x0, "", &d_last, &mut sgd_seq, true);
    let back_sgd = sgd_seq.back;
    let mut update_sgd = back_sgd.clone();
    let Seq { fwd: steps, train: train_steps, back, stats, fields: cache_fields, names: cache_names } = seq;
    // Training's backward: the same statements, but a first dense layer computes only its parameter gradients
    // (its input gradient is the last statement and nothing reads it).
    let mut back_params = back.clone();
    if let Some(first @ Layer { kind: Kind::Dense { .. }, step: None, .. }) = m.layers.first() {
        let (f, span) = (&first.name, first.span);
        let d = if m.layers.len() > 1 { format_ident!("d1") } else { d_last.clone() };
        if let Some(stmt) = back_params.last_mut() {
            *stmt = quote_spanned!(span=> self.#f.backward_params(&cache.#x0, &#d, &mut grads.#f););
        }
        if let Some(stmt) = update_sgd.last_mut() {
            *stmt = quote_spanned!(span=> self.#f.update_sgd(&cache.#x0, &#d, lr););
        }
    }

    // Parameters and state: each layer's tensors in order, under the layer's name.
    let params: Vec<&Layer> = m.param_layers().collect();
    let counts = |what: TokenStream| -> Vec<TokenStream> {
        params
            .iter()
            .map(|l| {
                let ty = layer_type(&t, l);
                quote!(<#ty as ::nn_core::__private::Parameters<#t>>::#what)
            })
            .collect()
    };
    let (tensor_counts, buffer_counts) = (counts(quote!(TENSORS)), counts(quote!(BUFFERS)));
    let lookups = |method: TokenStream, counts: &[TokenStream], mutable: bool| -> Vec<TokenStream> {
        params
            .iter()
            .zip(counts)
            .map(|(l, count)| {
                let f = &l.name;
                // Layers after the first of a recurrent stack appear under the stack's name (`lstm.weight_ih_l1`).
                let lit = match &l.kind {
                    Kind::Recurrent { module: Some(m), .. } => m.to_string(),
                    _ => f.to_string(),
                };
                let this = if mutable { quote!(&mut self.#f) } else { quote!(&self.#f) };
                // A nested network's tensors already name their layers: its field name is one scope further out.
                let rename = if matches!(l.kind, Kind::Nested { .. }) { quote!(in_scope) } else { quote!(in_layer) };
                quote! {
                    if index < #count {
                        return ::nn_core::__private::Parameters::#method(#this, index).map(|t| t.#rename(#lit));
                    }
                    let index = index - #count;
                }
            })
            .collect()
    };
    let get = lookups(quote!(tensor), &tensor_counts, false);
    let get_mut = lookups(quote!(tensor_mut), &tensor_counts, true);
    let buf = lookups(quote!(buffer), &buffer_counts, false);
    let buf_mut = lookups(quote!(buffer_mut), &buffer_counts, true);
    let sum = |c: &[TokenStream]| if c.is_empty() { quote!(0) } else { quote!(#(#c)+*) };
    let (tensor_count, buffer_count) = (sum(&tensor_counts), sum(&buffer_counts));
    // One composition level deeper than the deepest nested network, if there is one.
    let nested: Vec<TokenStream> = params
        .iter()
        .filter(|l| matches!(l.kind, Kind::Nested { .. }))
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
                    "networks nest at most `nn_core::MAX_SCOPES` deep (the levels a parameter name records)"
                );
                deepest + 1
            };
        }
    });

    let inits = params.iter().map(|l| {
        let f = &l.name;
        match &l.kind {
            Kind::BatchNorm => quote_spanned!(l.span=> self.#f.reset();),
            Kind::Recurrent { forget_bias: Some(b), .. } => {
                quote_spanned!(l.span=> self.#f.init_remembering(#b, rng);)
            }
            Kind::Recurrent { .. } => quote_spanned!(l.span=> self.#f.init(rng);),
            Kind::Nested { .. } => quote_spanned!(l.span=> ::nn_core::__private::Initialize::init(&mut self.#f, rng);),
            _ => {
                let k = init(l.init);
                quote_spanned!(l.span=> self.#f.init(::nn_core::__private::Init::#k, rng);)
            }
        }
    });

    let checks = m.checks.iter().map(|c| {
        let (cond, msg) = (&c.condition, &c.message);
        quote_spanned!(c.span=> const _: () = ::core::assert!(#cond, #msg);)
    });
    // A nested network computes in this network's scalar (the seam reinterprets its buffers).
    let scalar_checks = m.param_layers().filter_map(|l| match &l.kind {
        Kind::Nested { ty } => Some(quote_spanned!(syn::spanned::Spanned::span(ty)=>
            const _: fn() = || {
                fn computes_in<N: ::nn_core::__private::Network<Scalar = #t>>() {}
                computes_in::<#ty>();
            };
        )),
        _ => None,
    });

    let cache_doc = format!(
        "What [`{name}`]'s training forward keeps for its backward pass, for a batch of `B` samples (columns): \
         every layer's output, plus dropout masks and batch statistics."
    );
    let summary = std::iter::once(format!("input {}", m.input.display()))
        .chain(m.layers.iter().map(describe_short))
        .collect::<Vec<_>>()
        .join(" -> ");
    let summary_doc = format!("The layers, in order: `{summary}`.");
    let trained = weights.map(|w| trained(m, &t, w));
    let streaming = streaming(m, &t);
    let tensor = quote!(::nn_core::__private::Option<::nn_core::__private::Tensor<'_, #t>>);
    let tensor_mut = quote!(::nn_core::__private::Option<::nn_core::__private::TensorMut<'_, #t>>);

    quote! {
        #(#checks)*
        #(#scalar_checks)*

        #(#attrs)*
        #[derive(::nn_core::__private::bytemuck::Zeroable)]
        #[bytemuck(crate = "::nn_core::__private::bytemuck")]
        #vis struct #name {
            #(#fields)*
        }

        #[doc = #cache_doc]
        #[derive(Clone, Debug)]
        #[allow(dead_code)]
        #vis struct #cache<const B: usize> {
            #(#cache_fields)*
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

        impl ::nn_core::__private::Initialize for #name {
            fn init<R: ::nn_core::__private::Rng + ?Sized>(&mut self, rng: &mut R) {
                let _ = &rng;
                #(#inits)*
            }
        }

        impl ::nn_core::__private::Parameters<#t> for #name {
            const TENSORS: usize = #tensor_count;
            const BUFFERS: usize = #buffer_count;
            #depth

            fn tensor(&self, index: usize) -> #tensor {
                #(#get)*
                let _ = index;
                ::nn_core::__private::None
            }

            fn tensor_mut(&mut self, index: usize) -> #tensor_mut {
                #(#get_mut)*
                let _ = index;
                ::nn_core::__private::None
            }

            fn buffer(&self, index: usize) -> #tensor {
                #(#buf)*
                let _ = index;
                ::nn_core::__private::None
            }

            fn buffer_mut(&mut self, index: usize) -> #tensor_mut {
                #(#buf_mut)*
                let _ = index;
                ::nn_core::__private::None
            }
        }

        impl ::nn_core::__private::BatchNetwork for #name {
            type InputBatch<const B: usize> = #input_batch;
            type OutputBatch<const B: usize> = #output_batch;
            type BatchCache<const B: usize> = #cache<B>;

            #[inline]
            fn forward_batch<const B: usize>(&self, x: &Self::InputBatch<B>) -> Self::OutputBatch<B> {
                let x0 = *x;
                #(#steps)*
                #last
            }

            #[inline]
            fn forward_train_batch<const B: usize, R: ::nn_core::__private::Rng + ?Sized>(
                &self,
                x: &Self::InputBatch<B>,
                rng: &mut R,
            ) -> (Self::OutputBatch<B>, Self::BatchCache<B>) {
                let _ = &rng;
                let x0 = *x;
                #(#train_steps)*
                (#last, #cache { #(#cache_names),* })
            }

            #[inline]
            fn backward_batch<const B: usize>(
                &self,
                cache: &Self::BatchCache<B>,
                dy: &Self::OutputBatch<B>,
                grads: &mut Self,
            ) -> Self::InputBatch<B> {
                let _ = &grads;
                let #d_last = *dy;
                #(#back)*
                #d_first
            }

            #[inline]
            fn backward_params_batch<const B: usize>(
                &self,
                cache: &Self::BatchCache<B>,
                dy: &Self::OutputBatch<B>,
                grads: &mut Self,
            ) {
                let _ = &grads;
                let #d_last = *dy;
                #(#back_params)*
            }

            #[inline]
            fn backward_sgd_batch<const B: usize>(
                &mut self,
                cache: &Self::BatchCache<B>,
                dy: &Self::OutputBatch<B>,
                lr: #t,
            ) -> Self::InputBatch<B> {
                let _ = &lr;
                let #d_last = *dy;
                #(#back_sgd)*
                #d_first_sgd
            }

            #[inline]
            fn update_sgd_batch<const B: usize>(
                &mut self,
                cache: &Self::BatchCache<B>,
                dy: &Self::OutputBatch<B>,
                lr: #t,
            ) {
                let _ = &lr;
                let #d_last = *dy;
                #(#update_sgd)*
            }

            fn update_statistics<const B: usize>(&mut self, cache: &Self::BatchCache<B>) {
                let _ = cache;
                #(#stats)*
            }
        }

        impl ::nn_core::__private::Network for #name {
            type Scalar = #t;
            type Input = ::nn_core::__private::SVector<#t, #d_in>;
            type Output = ::nn_core::__private::SVector<#t, #d_out>;
            type Cache = #cache<1>;

            #[inline]
            fn forward(&self, x: &Self::Input) -> Self::Output {
                ::nn_core::__private::BatchNetwork::forward_batch::<1>(self, x)
            }

            #[inline]
            fn forward_train<R: ::nn_core::__private::Rng + ?Sized>(
                &self,
                x: &Self::Input,
                rng: &mut R,
            ) -> (Self::Output, Self::Cache) {
                ::nn_core::__private::BatchNetwork::forward_train_batch::<1, R>(self, x, rng)
            }

            #[inline]
            fn backward(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) -> Self::Input {
                ::nn_core::__private::BatchNetwork::backward_batch::<1>(self, cache, dy, grads)
            }

            #[inline]
            fn backward_params(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) {
                ::nn_core::__private::BatchNetwork::backward_params_batch::<1>(self, cache, dy, grads)
            }

            #[inline]
            fn backward_sgd(&mut self, cache: &Self::Cache, dy: &Self::Output, lr: #t) -> Self::Input {
                ::nn_core::__private::BatchNetwork::backward_sgd_batch::<1>(self, cache, dy, lr)
            }

            #[inline]
            fn update_sgd(&mut self, cache: &Self::Cache, dy: &Self::Output, lr: #t) {
                ::nn_core::__private::BatchNetwork::update_sgd_batch::<1>(self, cache, dy, lr)
            }
        }
    }
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
        let ty = layer_type(t, l);
        quote!(#f: <#ty>::new(#(#parts),*),)
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
        code.push(match &l.kind {
            Kind::Recurrent { .. } => {
                let ty = layer_type(t, l)?;
                let h = l.step.as_ref()?.outputs.tokens();
                let doc = format!(
                    "The state of `{f}` (its hidden vector{}).",
                    if matches!(l.kind, Kind::Recurrent { cell: CellKind::Lstm, .. }) {
                        " and cell vector, as two columns"
                    } else {
                        ""
                    }
                );
                fields.push(quote!(#[doc = #doc] #vis #f: <#ty as ::nn_core::__private::Recurrent<#t>>::State,));
                zeros.push(quote!(#f: ::nn_core::__private::Buffer::zeros(),));
                quote_spanned!(l.span=>
                    ::nn_core::__private::Recurrent::step(&self.#f, &mut state.#f, #inp.as_slice());
                    let #out = ::nn_core::__private::hidden::<#t, #h>(state.#f.as_slice());
                )
            }
            Kind::Dense { .. } => quote_spanned!(l.span=> let #out = self.#f.forward(&#inp);),
            Kind::Activation { kind, param } => {
                let a = activation(t, *kind, param.as_ref(), l.span);
                quote_spanned!(l.span=> let #out = ::nn_core::__private::ActivationLayer::forward(&#a, &#inp);)
            }
            Kind::Dropout { .. } => quote!(let #out = #inp;),
            Kind::NoisyRelu => quote_spanned!(l.span=> let #out = ::nn_core::__private::NoisyRelu.forward(&#inp);),
            Kind::BatchNorm if l.step.is_none() && l.geometry.is_none() => {
                quote_spanned!(l.span=> let #out = self.#f.forward(&#inp);)
            }
            // Layers that mix steps (flattening a sequence, residual blocks over it) have no streaming form.
            _ => return Some(consts),
        });
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

/// The generated statements of a network's layer sequence.
#[derive(Default)]
struct Seq {
    fwd: Vec<TokenStream>,
    train: Vec<TokenStream>,
    back: Vec<TokenStream>,
    stats: Vec<TokenStream>,
    fields: Vec<TokenStream>,
    names: Vec<Ident>,
}

/// Forward code for `layers` reading the local `input`; values are named `{prefix}x{i}` (outputs) and
/// `{prefix}c{i}` (what dropout and batch norm keep). Returns the local holding the output.
fn gen_forward(
    t: &TokenStream,
    vis: &syn::Visibility,
    layers: &[Layer],
    input: &Ident,
    prefix: &str,
    seq: &mut Seq,
) -> Ident {
    let mut inp = input.clone();
    // Inference fuses a dense layer with the activation after it: the activation runs in place on the
    // layer's output buffer (`Dense::forward_activated`) and its own statement only renames the value.
    let mut fused = false;
    for (i, l) in layers.iter().enumerate() {
        let out = format_ident!("{}x{}", prefix, i + 1);
        let c = format_ident!("{}c{}", prefix, i);
        let f = &l.name;
        let (it, ot) = (l.inputs.tokens(), l.outputs.tokens());
        let same = |s: TokenStream| (s.clone(), s);
        let was_fused = core::mem::take(&mut fused);
        let (fwd, train) = match &l.kind {
            Kind::Dense { .. } if l.step.is_some() => {
                same(quote_spanned!(l.span=> let #out = self.#f.forward_steps::<#it, #ot, B>(&#inp);))
            }
            Kind::Dense { .. } => {
                let train = quote_spanned!(l.span=> let #out = self.#f.forward(&#inp););
                match layers.get(i + 1) {
                    Some(next @ Layer { kind: Kind::Activation { kind, param }, .. }) => {
                        fused = true;
                        let a = layer_activation(t, next, *kind, param.as_ref());
                        (quote_spanned!(l.span=> let #out = self.#f.forward_activated(&#inp, &#a);), train)
                    }
                    _ => (train.clone(), train),
                }
            }
            Kind::Activation { kind, param } if was_fused => {
                let a = layer_activation(t, l, *kind, param.as_ref());
                (
                    quote_spanned!(l.span=> let #out = #inp;),
                    quote_spanned!(l.span=> let #out = ::nn_core::__private::ActivationLayer::forward(&#a, &#inp);),
                )
            }
            Kind::Recurrent { cell, steps, hidden, .. } => {
                let s = steps.tokens();
                let k = steps.mul(&Sz::Lit(cell.keep())).mul(hidden).tokens();
                (
                    quote_spanned!(l.span=>
                        let #out = ::nn_core::__private::Recurrent::forward_sequence::<#s, #it, #ot, B>(&self.#f, &#inp);
                    ),
                    quote_spanned!(l.span=>
                        let mut #c = ::nn_core::__private::SMatrix::<#t, #k, B>::zeros();
                        let #out = ::nn_core::__private::Recurrent::forward_sequence_train::<#s, #it, #ot, #k, B>(
                            &self.#f, &#inp, &mut #c,
                        );
                    ),
                )
            }
            Kind::BatchNorm => (
                quote_spanned!(l.span=> let #out = self.#f.forward(&#inp);),
                quote_spanned!(l.span=> let (#out, #c) = self.#f.forward_train(&#inp);),
            ),
            Kind::Dropout { p } => (
                quote_spanned!(l.span=> let #out = ::nn_core::__private::Dropout::<#t>(#p).forward(&#inp);),
                quote_spanned!(l.span=> let (#out, #c) = ::nn_core::__private::Dropout::<#t>(#p).forward_train(&#inp, rng);),
            ),
            Kind::Activation { kind, param } => {
                let a = layer_activation(t, l, *kind, param.as_ref());
                same(quote_spanned!(l.span=> let #out = ::nn_core::__private::ActivationLayer::forward(&#a, &#inp);))
            }
            Kind::Nested { .. } => (
                quote_spanned!(l.span=>
                    let #out = ::nn_core::__private::BatchNetwork::forward_batch::<B>(
                        &self.#f, ::nn_core::__private::seam(&#inp),
                    );
                ),
                quote_spanned!(l.span=>
                    let (#out, #c) = ::nn_core::__private::BatchNetwork::forward_train_batch::<B, _>(
                        &self.#f, ::nn_core::__private::seam(&#inp), rng,
                    );
                ),
            ),
            Kind::NoisyRelu => (
                quote_spanned!(l.span=> let #out = ::nn_core::__private::NoisyRelu.forward(&#inp);),
                quote_spanned!(l.span=> let (#out, #c) = ::nn_core::__private::NoisyRelu.forward_train(&#inp, rng);),
            ),
            Kind::Conv { .. } => {
                let g = geometry(l);
                same(quote_spanned!(l.span=> let #out = self.#f.forward::<#it, #ot, B>(#g, &#inp);))
            }
            Kind::Pool { max } => {
                let (p, g) = (pool(*max), geometry(l));
                same(quote_spanned!(l.span=> let #out = #p.forward::<#t, #it, #ot, B>(#g, &#inp);))
            }
            Kind::Flatten => same(quote_spanned!(l.span=> let #out = #inp;)),
            Kind::Maxout { pieces } => {
                let k = pieces.tokens();
                same(
                    quote_spanned!(l.span=> let #out = ::nn_core::__private::Maxout::<#k>.forward::<#t, #it, #ot, B>(&#inp);),
                )
            }
            Kind::Merge { branches, sum, sizes } => {
                let mut inner = Seq::default();
                let outs: Vec<Ident> = branches
                    .iter()
                    .enumerate()
                    .map(|(j, b)| gen_forward(t, vis, b, &inp, &format!("{prefix}m{i}b{j}_"), &mut inner))
                    .collect();
                let merge = merge_forward(t, *sum, &outs, sizes, &out, &format!("{prefix}m{i}_"));
                let (fwd, train) = (inner.fwd, inner.train);
                seq.fields.extend(inner.fields);
                seq.names.extend(inner.names);
                seq.stats.extend(inner.stats);
                (quote_spanned!(l.span=> #(#fwd)* #(#merge)*), quote_spanned!(l.span=> #(#train)* #(#merge)*))
            }
            Kind::Residual { branch, projection } => {
                let (mut inner, branch_prefix) = (Seq::default(), format!("{prefix}r{i}_"));
                let b = gen_forward(t, vis, branch, &inp, &branch_prefix, &mut inner);
                let skip = match projection {
                    Some(p) => gen_forward(
                        t,
                        vis,
                        core::slice::from_ref(p.as_ref()),
                        &inp,
                        &format!("{prefix}r{i}p_"),
                        &mut inner,
                    ),
                    None => inp.clone(),
                };
                let (fwd, train) = (inner.fwd, inner.train);
                seq.fields.extend(inner.fields);
                seq.names.extend(inner.names);
                seq.stats.extend(inner.stats);
                (
                    quote_spanned!(l.span=> #(#fwd)* let #out = ::nn_core::__private::residual_add(&#b, &#skip);),
                    quote_spanned!(l.span=> #(#train)* let #out = ::nn_core::__private::residual_add(&#b, &#skip);),
                )
            }
        };
        seq.fwd.push(fwd);
        seq.train.push(train);
        let doc = format!("The output of {}.", describe_short(l));
        seq.fields.push(quote!(#[doc = #doc] #vis #out: ::nn_core::__private::SMatrix<#t, #ot, B>,));
        seq.names.push(out.clone());
        match &l.kind {
            Kind::Recurrent { cell, steps, hidden, .. } => {
                let k = steps.mul(&Sz::Lit(cell.keep())).mul(hidden).tokens();
                seq.fields.push(quote!(#[doc = "What this recurrent layer keeps of every step for backpropagation through time."] #vis #c: ::nn_core::__private::SMatrix<#t, #k, B>,));
                seq.names.push(c);
            }
            Kind::Dropout { .. } => {
                seq.fields.push(quote!(#[doc = "The scaled dropout mask of this layer."] #vis #c: ::nn_core::__private::SMatrix<#t, #ot, B>,));
                seq.names.push(c);
            }
            Kind::Nested { ty } => {
                seq.fields.push(quote!(#[doc = "What this nested network's training forward keeps."] #vis #c: <#ty as ::nn_core::__private::BatchNetwork>::BatchCache<B>,));
                seq.stats.push(quote_spanned!(l.span=> ::nn_core::__private::BatchNetwork::update_statistics::<B>(&mut self.#f, &cache.#c);));
                seq.names.push(c);
            }
            Kind::NoisyRelu => {
                seq.fields.push(quote!(#[doc = "The standard normal draws of this noisy ReLU."] #vis #c: ::nn_core::__private::SMatrix<#t, #ot, B>,));
                seq.names.push(c);
            }
            Kind::BatchNorm => {
                let channels = l.geometry.as_ref().map_or(ot.clone(), |g| g.channels.tokens());
                seq.fields.push(quote!(#[doc = "The batch statistics of this layer."] #vis #c: ::nn_core::__private::BatchNormCache<#t, #channels, #ot, B>,));
                seq.stats.push(quote_spanned!(l.span=> self.#f.update_statistics(&cache.#c);));
                seq.names.push(c);
            }
            _ => {}
        }
        inp = out;
    }
    inp
}

/// Backward code for `layers` (whose input is the local `input`), from the local `dout` holding dL/d(output);
/// returns the local holding dL/d(input).
#[allow(clippy::too_many_arguments)]
fn gen_backward(
    t: &TokenStream,
    layers: &[Layer],
    input: &Ident,
    prefix: &str,
    dout: &Ident,
    seq: &mut Seq,
    sgd: bool,
) -> Ident {
    let mut d = dout.clone();
    for (i, l) in layers.iter().enumerate().rev() {
        let din = format_ident!("{}d{}", prefix, i);
        let xin = if i == 0 { input.clone() } else { format_ident!("{}x{}", prefix, i) };
        let xout = format_ident!("{}x{}", prefix, i + 1);
        let c = format_ident!("{}c{}", prefix, i);
        let f = &l.name;
        let (it, ot) = (l.inputs.tokens(), l.outputs.tokens());
        let code = match &l.kind {
            Kind::Dense { .. } if l.step.is_some() && sgd => quote_spanned!(l.span=>
                let #din = ::nn_core::__private::sgd_through_gradients(&mut self.#f, lr, |l, g| {
                    l.backward_steps::<#it, #ot, B>(&cache.#xin, &#d, g)
                });
            ),
            Kind::Dense { .. } if l.step.is_some() => quote_spanned!(l.span=>
                let #din = self.#f.backward_steps::<#it, #ot, B>(&cache.#xin, &#d, &mut grads.#f);
            ),
            Kind::Recurrent { cell, steps, hidden, .. } => {
                let s = steps.tokens();
                let k = steps.mul(&Sz::Lit(cell.keep())).mul(hidden).tokens();
                if sgd {
                    quote_spanned!(l.span=>
                        let #din = ::nn_core::__private::sgd_through_gradients(&mut self.#f, lr, |l, g| {
                            ::nn_core::__private::Recurrent::backward_sequence::<#s, #it, #ot, #k, B>(
                                l, &cache.#xin, &cache.#c, &#d, g,
                            )
                        });
                    )
                } else {
                    quote_spanned!(l.span=>
                        let #din = ::nn_core::__private::Recurrent::backward_sequence::<#s, #it, #ot, #k, B>(
                            &self.#f, &cache.#xin, &cache.#c, &#d, &mut grads.#f,
                        );
                    )
                }
            }
            Kind::Dense { .. } if sgd => {
                quote_spanned!(l.span=> let #din = self.#f.backward_sgd(&cache.#xin, &#d, lr);)
            }
            Kind::Dense { .. } => {
                quote_spanned!(l.span=> let #din = self.#f.backward(&cache.#xin, &#d, &mut grads.#f);)
            }
            Kind::BatchNorm if sgd => quote_spanned!(l.span=>
                let #din = ::nn_core::__private::sgd_through_gradients(&mut self.#f, lr, |l, g| l.backward(&cache.#c, &#d, g));
            ),
            Kind::BatchNorm => quote_spanned!(l.span=> let #din = self.#f.backward(&cache.#c, &#d, &mut grads.#f);),
            Kind::Dropout { p } => {
                quote_spanned!(l.span=> let #din = ::nn_core::__private::Dropout::<#t>(#p).backward(&cache.#c, &#d);)
            }
            Kind::Activation { kind, param } => {
                let a = layer_activation(t, l, *kind, param.as_ref());
                quote_spanned!(l.span=>
                    let #din = ::nn_core::__private::ActivationLayer::backward(&#a, &cache.#xin, &cache.#xout, &#d);
                )
            }
            Kind::Conv { .. } if sgd => {
                let geo = geometry(l);
                quote_spanned!(l.span=>
                    let #din = ::nn_core::__private::sgd_through_gradients(&mut self.#f, lr, |l, g| {
                        l.backward::<#it, #ot, B>(#geo, &cache.#xin, &#d, g)
                    });
                )
            }
            Kind::Conv { .. } => {
                let g = geometry(l);
                quote_spanned!(l.span=> let #din = self.#f.backward::<#it, #ot, B>(#g, &cache.#xin, &#d, &mut grads.#f);)
            }
            Kind::Pool { max } => {
                let (p, g) = (pool(*max), geometry(l));
                quote_spanned!(l.span=> let #din = #p.backward::<#t, #it, #ot, B>(#g, &cache.#xin, &#d);)
            }
            Kind::Flatten => quote_spanned!(l.span=> let #din = #d;),
            Kind::Maxout { pieces } => {
                let k = pieces.tokens();
                quote_spanned!(l.span=> let #din = ::nn_core::__private::Maxout::<#k>.backward::<#t, #it, #ot, B>(&cache.#xin, &#d);)
            }
            Kind::NoisyRelu => {
                quote_spanned!(l.span=> let #din = ::nn_core::__private::NoisyRelu.backward(&cache.#xin, &cache.#c, &#d);)
            }
            Kind::Nested { .. } if sgd => quote_spanned!(l.span=>
                let #din: ::nn_core::__private::SMatrix<#t, #it, B> = ::nn_core::__private::seam_owned(
                    ::nn_core::__private::BatchNetwork::backward_sgd_batch::<B>(&mut self.#f, &cache.#c, &#d, lr),
                );
            ),
            Kind::Nested { .. } => quote_spanned!(l.span=>
                let #din: ::nn_core::__private::SMatrix<#t, #it, B> = ::nn_core::__private::seam_owned(
                    ::nn_core::__private::BatchNetwork::backward_batch::<B>(&self.#f, &cache.#c, &#d, &mut grads.#f),
                );
            ),
            Kind::Merge { branches, sum, sizes } => {
                let mut inner = Seq::default();
                let (mut code, grads) = merge_backward(t, *sum, &d, sizes, &format!("{prefix}m{i}_"));
                let dins: Vec<Ident> = branches
                    .iter()
                    .zip(&grads)
                    .enumerate()
                    .map(|(j, (b, g))| gen_backward(t, b, &xin, &format!("{prefix}m{i}b{j}_"), g, &mut inner, sgd))
                    .collect();
                let back = inner.back;
                code.extend(back);
                code.extend(sum_into(&dins, &din, &format!("{prefix}m{i}_dx")));
                quote_spanned!(l.span=> #(#code)*)
            }
            Kind::Residual { branch, projection } => {
                let mut inner = Seq::default();
                let db = gen_backward(t, branch, &xin, &format!("{prefix}r{i}_"), &d, &mut inner, sgd);
                let ds = match projection {
                    Some(p) => gen_backward(
                        t,
                        core::slice::from_ref(p.as_ref()),
                        &xin,
                        &format!("{prefix}r{i}p_"),
                        &d,
                        &mut inner,
                        sgd,
                    ),
                    None => d.clone(),
                };
                let back = inner.back;
                quote_spanned!(l.span=> #(#back)* let #din = ::nn_core::__private::residual_add(&#db, &#ds);)
            }
        };
        seq.back.push(code);
        d = din;
    }
    d
}

/// The statements that merge branch outputs `outs` into the local `out`: pairwise concatenations (sizes
/// `sizes`), or sums.
fn merge_forward(
    t: &TokenStream,
    sum: bool,
    outs: &[Ident],
    sizes: &[Sz],
    out: &Ident,
    prefix: &str,
) -> Vec<TokenStream> {
    if sum {
        return sum_into(outs, out, &format!("{prefix}sum"));
    }
    let mut stmts = Vec::new();
    let (mut acc, mut acc_size) = (outs[0].clone(), sizes[0].clone());
    for j in 1..outs.len() {
        let next = if j + 1 == outs.len() { out.clone() } else { format_ident!("{}cat{}", prefix, j) };
        let total = acc_size.add(&sizes[j]);
        let (ra, rb, r, o) = (acc_size.tokens(), sizes[j].tokens(), total.tokens(), &outs[j]);
        stmts.push(quote!(let #next = ::nn_core::__private::concat::<#t, #ra, #rb, #r, B>(&#acc, &#o);));
        (acc, acc_size) = (next, total);
    }
    stmts
}

/// `let out = a + b + ...` over `terms` (one term is a copy), through intermediates named from `prefix`.
fn sum_into(terms: &[Ident], out: &Ident, prefix: &str) -> Vec<TokenStream> {
    let Some((first, rest)) = terms.split_first() else { return Vec::new() };
    if rest.is_empty() {
        return vec![quote!(let #out = #first;)];
    }
    let mut stmts = Vec::new();
    let mut acc = first.clone();
    for (j, term) in rest.iter().enumerate() {
        let next = if j + 1 == rest.len() { out.clone() } else { format_ident!("{}{}", prefix, j) };
        stmts.push(quote!(let #next = ::nn_core::__private::residual_add(&#acc, &#term);));
        acc = next;
    }
    stmts
}

/// The gradient of each branch of a merge from the merged output's gradient `d`: the same `d` for a sum, the
/// matching rows for a concatenation (split off from the end, pairwise).
fn merge_backward(t: &TokenStream, sum: bool, d: &Ident, sizes: &[Sz], prefix: &str) -> (Vec<TokenStream>, Vec<Ident>) {
    if sum {
        return (Vec::new(), vec![d.clone(); sizes.len()]);
    }
    let mut prefix_sizes = vec![sizes[0].clone()];
    for s in &sizes[1..] {
        let last = prefix_sizes.last().cloned().unwrap_or(Sz::Lit(0));
        prefix_sizes.push(last.add(s));
    }
    let mut stmts = Vec::new();
    let mut grads = vec![d.clone(); sizes.len()];
    let mut acc = d.clone();
    for j in (1..sizes.len()).rev() {
        let (head, tail) = (format_ident!("{}dhead{}", prefix, j), format_ident!("{}d{}", prefix, j));
        let (ra, rb, r) = (prefix_sizes[j - 1].tokens(), sizes[j].tokens(), prefix_sizes[j].tokens());
        stmts.push(quote!(let (#head, #tail) = ::nn_core::__private::split::<#t, #ra, #rb, #r, B>(&#acc);));
        grads[j] = tail;
        acc = head;
    }
    grads[0] = acc;
    (stmts, grads)
}

fn describe_short(l: &Layer) -> String {
    match &l.kind {
        Kind::Dense { .. } => format!("{} Dense {}", l.name, l.outputs.display()),
        Kind::BatchNorm => format!("{} BatchNorm", l.name),
        Kind::Activation { kind, .. } => kind.name().to_string(),
        Kind::Dropout { p } => format!("Dropout({p})"),
        Kind::Conv { transposed, out, .. } => {
            format!(
                "{} {}Conv {}ch ({})",
                l.name,
                if *transposed { "Transposed" } else { "" },
                out.display(),
                l.outputs.display()
            )
        }
        Kind::Pool { max } => format!("{}Pool ({})", if *max { "Max" } else { "Avg" }, l.outputs.display()),
        Kind::Flatten => "Flatten".to_string(),
        Kind::Maxout { pieces } => format!("Maxout({}) ({})", pieces.display(), l.outputs.display()),
        Kind::NoisyRelu => "NoisyRelu".to_string(),
        Kind::Merge { branches, sum, .. } => format!(
            "{} {}({})",
            l.name,
            if *sum { "Sum" } else { "Concat" },
            branches
                .iter()
                .map(|b| format!("[{}]", b.iter().map(describe_short).collect::<Vec<_>>().join(" -> ")))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Kind::Nested { ty } => {
            format!("{} {}", l.name, quote::ToTokens::to_token_stream(ty).to_string().replace(' ', ""))
        }
        Kind::Recurrent { cell, hidden, last, .. } => format!(
            "{} {} {}{}",
            l.name,
            cell.name(),
            hidden.display(),
            if *last { " (last step)" } else { " (every step)" }
        ),
        Kind::Residual { branch, projection } => format!(
            "{} Residual({}{})",
            l.name,
            branch.iter().map(describe_short).collect::<Vec<_>>().join(" -> "),
            projection.as_ref().map_or(String::new(), |p| format!(", project = {}", describe_short(p)))
        ),
    }
}

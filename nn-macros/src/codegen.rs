//! Code generation from the validated model. Generated code names only `::nn_core::__private::…` and
//! `::core::…`, so nothing the user has in scope can break it.

use crate::embed::Embedded;
use crate::model::{ActKind, Dim, InitKind, Kind, Layer, Model, Scalar};
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
    let (i, o) = (l.inputs.tokens(), l.outputs.tokens());
    match l.kind {
        Kind::Dense { bias: true, .. } => Some(quote!(::nn_core::__private::Dense<#t, #i, #o>)),
        Kind::Dense { bias: false, .. } => Some(quote!(::nn_core::__private::DenseNoBias<#t, #i, #o>)),
        Kind::BatchNorm => Some(quote!(::nn_core::__private::BatchNorm<#t, #o>)),
        Kind::Conv { transposed, two_d, in_channels, out } => {
            let g = l.geometry?;
            let lit = proc_macro2::Literal::usize_unsuffixed;
            let (ci, co, kh, kw) = (lit(in_channels), lit(out), lit(g.kh), lit(g.kw));
            Some(match (transposed, two_d) {
                (false, true) => {
                    let k = lit(in_channels * g.kh * g.kw);
                    quote!(::nn_core::__private::Conv2d<#t, #co, #k, #kh, #kw>)
                }
                (false, false) => {
                    let k = lit(in_channels * g.kw);
                    quote!(::nn_core::__private::Conv1d<#t, #co, #k, #kw>)
                }
                (true, true) => {
                    let k = lit(out * g.kh * g.kw);
                    quote!(::nn_core::__private::ConvTranspose2d<#t, #ci, #k, #co, #kh, #kw>)
                }
                (true, false) => {
                    let k = lit(out * g.kw);
                    quote!(::nn_core::__private::ConvTranspose1d<#t, #ci, #k, #co, #kw>)
                }
            })
        }
        Kind::Activation { .. } | Kind::Dropout { .. } | Kind::Pool { .. } | Kind::Flatten => None,
    }
}

/// `&Geometry { .. }` of a convolution or pooling layer, as a constant.
fn geometry(l: &Layer) -> TokenStream {
    let g = l.geometry.unwrap_or(crate::model::Geometry {
        channels: 0,
        h: 0,
        w: 0,
        kh: 0,
        kw: 0,
        sh: 0,
        sw: 0,
        ph: 0,
        pw: 0,
        dh: 0,
        dw: 0,
    });
    let v = [g.channels, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw]
        .map(proc_macro2::Literal::usize_unsuffixed);
    let [channels, h, w, kh, kw, sh, sw, ph, pw, dh, dw] = v;
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
            let g = l.geometry.map_or((0, 0), |g| (g.kh, g.kw));
            format!(
                "Layer `{}`: {}convolution, {in_channels} to {out} channels, kernel {}x{} ({} inputs to {} outputs).",
                l.name,
                if *transposed { "transposed " } else { "" },
                g.0,
                g.1,
                l.inputs.display(),
                l.outputs.display()
            )
        }
        Kind::Pool { max } => format!("`{}Pool`", if *max { "Max" } else { "Avg" }),
        Kind::Flatten => "`Flatten`".to_string(),
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

    // The cache: every layer's output (x0 is the input), plus what dropout and batch norm keep.
    let n = m.layers.len();
    let xs: Vec<_> = (0..=n).map(|i| format_ident!("x{}", i)).collect();
    let extra: Vec<_> = (0..n).map(|i| format_ident!("c{}", i)).collect();
    let dims: Vec<&Dim> = std::iter::once(&m.input).chain(m.layers.iter().map(|l| &l.outputs)).collect();
    let mut cache_fields: Vec<TokenStream> = (0..=n)
        .map(|i| {
            let (x, ty) = (&xs[i], matrix(&t, dims[i]));
            let doc = match i {
                0 => "The network's input.".to_string(),
                i if i == n => format!("The network's output (from {}).", describe_short(&m.layers[i - 1])),
                i => format!("The output of {}.", describe_short(&m.layers[i - 1])),
            };
            quote!(#[doc = #doc] #vis #x: #ty,)
        })
        .collect();
    for (i, l) in m.layers.iter().enumerate() {
        let c = &extra[i];
        let d = l.outputs.tokens();
        match l.kind {
            Kind::Dropout { .. } => cache_fields.push(quote! {
                #[doc = "The scaled dropout mask of this layer."]
                #vis #c: ::nn_core::__private::SMatrix<#t, #d, B>,
            }),
            Kind::BatchNorm => cache_fields.push(quote! {
                #[doc = "The batch statistics of this batch-norm layer."]
                #vis #c: ::nn_core::__private::BatchNormCache<#t, #d, B>,
            }),
            _ => {}
        }
    }
    let extra_names: Vec<&Ident> = m
        .layers
        .iter()
        .enumerate()
        .filter(|(_, l)| matches!(l.kind, Kind::Dropout { .. } | Kind::BatchNorm))
        .map(|(i, _)| &extra[i])
        .collect();

    // Forward (inference) and training forward: each layer reads the previous value.
    let step = |i: usize, l: &Layer, train: bool| -> TokenStream {
        let out = &xs[i + 1];
        let inp = if i == 0 {
            quote!(x)
        } else {
            let v = &xs[i];
            quote!(&#v)
        };
        let c = &extra[i];
        match &l.kind {
            Kind::Dense { .. } => {
                let f = &l.name;
                quote_spanned!(l.span=> let #out = self.#f.forward(#inp);)
            }
            Kind::BatchNorm if train => {
                let f = &l.name;
                quote_spanned!(l.span=> let (#out, #c) = self.#f.forward_train(#inp);)
            }
            Kind::BatchNorm => {
                let f = &l.name;
                quote_spanned!(l.span=> let #out = self.#f.forward(#inp);)
            }
            Kind::Dropout { p } if train => {
                quote_spanned!(l.span=> let (#out, #c) = ::nn_core::__private::Dropout::<#t>(#p).forward_train(#inp, rng);)
            }
            Kind::Dropout { p } => {
                quote_spanned!(l.span=> let #out = ::nn_core::__private::Dropout::<#t>(#p).forward(#inp);)
            }
            Kind::Activation { kind, param } => {
                let a = activation(&t, *kind, param.as_ref(), l.span);
                quote_spanned!(l.span=> let #out = ::nn_core::__private::ActivationLayer::forward(&#a, #inp);)
            }
            Kind::Conv { .. } => {
                let (f, g, i, o) = (&l.name, geometry(l), l.inputs.tokens(), l.outputs.tokens());
                quote_spanned!(l.span=> let #out = self.#f.forward::<#i, #o, B>(#g, #inp);)
            }
            Kind::Pool { max } => {
                let (p, g, i, o) = (pool(*max), geometry(l), l.inputs.tokens(), l.outputs.tokens());
                quote_spanned!(l.span=> let #out = #p.forward::<#t, #i, #o, B>(#g, #inp);)
            }
            Kind::Flatten => quote_spanned!(l.span=> let #out = *#inp;),
        }
    };
    let steps: Vec<TokenStream> = m.layers.iter().enumerate().map(|(i, l)| step(i, l, false)).collect();
    let train_steps: Vec<TokenStream> = m.layers.iter().enumerate().map(|(i, l)| step(i, l, true)).collect();
    let last = &xs[n];
    let rest = &xs[1..];

    // Backward: the layers in reverse, each turning dL/d(output) into dL/d(input).
    let ds: Vec<_> = (0..=n).map(|i| format_ident!("d{}", i)).collect();
    let back = m.layers.iter().enumerate().rev().map(|(i, l)| {
        let (din, dout, xin, xout, c) = (&ds[i], &ds[i + 1], &xs[i], &xs[i + 1], &extra[i]);
        match &l.kind {
            Kind::Dense { .. } => {
                let f = &l.name;
                quote_spanned!(l.span=> let #din = self.#f.backward(&cache.#xin, &#dout, &mut grads.#f);)
            }
            Kind::BatchNorm => {
                let f = &l.name;
                quote_spanned!(l.span=> let #din = self.#f.backward(&cache.#c, &#dout, &mut grads.#f);)
            }
            Kind::Dropout { p } => {
                quote_spanned!(l.span=> let #din = ::nn_core::__private::Dropout::<#t>(#p).backward(&cache.#c, &#dout);)
            }
            Kind::Activation { kind, param } => {
                let a = activation(&t, *kind, param.as_ref(), l.span);
                quote_spanned!(l.span=>
                    let #din = ::nn_core::__private::ActivationLayer::backward(&#a, &cache.#xin, &cache.#xout, &#dout);
                )
            }
            Kind::Conv { .. } => {
                let (f, g, i, o) = (&l.name, geometry(l), l.inputs.tokens(), l.outputs.tokens());
                quote_spanned!(l.span=> let #din = self.#f.backward::<#i, #o, B>(#g, &cache.#xin, &#dout, &mut grads.#f);)
            }
            Kind::Pool { max } => {
                let (p, g, i, o) = (pool(*max), geometry(l), l.inputs.tokens(), l.outputs.tokens());
                quote_spanned!(l.span=> let #din = #p.backward::<#t, #i, #o, B>(#g, &cache.#xin, &#dout);)
            }
            Kind::Flatten => quote_spanned!(l.span=> let #din = #dout;),
        }
    });
    let (d_last, d_first) = (&ds[n], &ds[0]);
    let stats = m.layers.iter().enumerate().filter(|(_, l)| matches!(l.kind, Kind::BatchNorm)).map(|(i, l)| {
        let (f, c) = (&l.name, &extra[i]);
        quote_spanned!(l.span=> self.#f.update_statistics(&cache.#c);)
    });

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
                let lit = f.to_string();
                let this = if mutable { quote!(&mut self.#f) } else { quote!(&self.#f) };
                quote! {
                    if index < #count {
                        return ::nn_core::__private::Parameters::#method(#this, index).map(|t| t.in_layer(#lit));
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

    let inits = params.iter().map(|l| {
        let f = &l.name;
        match l.kind {
            Kind::BatchNorm => quote_spanned!(l.span=> self.#f.reset();),
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
    let tensor = quote!(::nn_core::__private::Option<::nn_core::__private::Tensor<'_, #t>>);
    let tensor_mut = quote!(::nn_core::__private::Option<::nn_core::__private::TensorMut<'_, #t>>);

    quote! {
        #(#checks)*

        #(#attrs)*
        #[derive(::nn_core::__private::bytemuck::Zeroable)]
        #[bytemuck(crate = "::nn_core::__private::bytemuck")]
        #vis struct #name {
            #(#fields)*
        }

        #[doc = #cache_doc]
        #[derive(Clone, Debug)]
        #vis struct #cache<const B: usize> {
            #(#cache_fields)*
        }

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

        impl ::nn_core::__private::Initialize for #name {
            fn init<R: ::nn_core::__private::Rng + ?Sized>(&mut self, rng: &mut R) {
                let _ = &rng;
                #(#inits)*
            }
        }

        impl ::nn_core::__private::Parameters<#t> for #name {
            const TENSORS: usize = #tensor_count;
            const BUFFERS: usize = #buffer_count;

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
                #(#train_steps)*
                (#last, #cache { x0: *x, #(#rest,)* #(#extra_names),* })
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

fn describe_short(l: &Layer) -> String {
    match &l.kind {
        Kind::Dense { .. } => format!("{} Dense {}", l.name, l.outputs.display()),
        Kind::BatchNorm => format!("{} BatchNorm", l.name),
        Kind::Activation { kind, .. } => kind.name().to_string(),
        Kind::Dropout { p } => format!("Dropout({p})"),
        Kind::Conv { transposed, out, .. } => {
            format!("{} {}Conv {out}ch ({})", l.name, if *transposed { "Transposed" } else { "" }, l.outputs.display())
        }
        Kind::Pool { max } => format!("{}Pool ({})", if *max { "Max" } else { "Avg" }, l.outputs.display()),
        Kind::Flatten => "Flatten".to_string(),
    }
}

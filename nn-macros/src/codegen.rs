//! Code generation from the validated model. Generated code names only `::nn_core::__private::…` and
//! `::core::…`, so nothing the user has in scope can break it.

use crate::model::{ActKind, Dim, InitKind, Kind, Layer, Model, Scalar};
use crate::parse::NetworkDef;
use proc_macro2::{Span, TokenStream};
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

fn vector(t: &TokenStream, d: &Dim) -> TokenStream {
    let d = d.tokens();
    quote!(::nn_core::__private::SVector<#t, #d>)
}

fn layer_type(t: &TokenStream, l: &Layer) -> Option<TokenStream> {
    let (i, o) = (l.inputs.tokens(), l.outputs.tokens());
    match l.kind {
        Kind::Dense { bias: true, .. } => Some(quote!(::nn_core::__private::Dense<#t, #i, #o>)),
        Kind::Dense { bias: false, .. } => Some(quote!(::nn_core::__private::DenseNoBias<#t, #i, #o>)),
        Kind::Activation { .. } => None,
    }
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
        Kind::Activation { kind, .. } => format!("`{}`", kind.name()),
    }
}

pub fn expand(m: &Model) -> TokenStream {
    let t = scalar(m.scalar);
    let (vis, name, attrs) = (&m.vis, &m.name, &m.attrs);
    let cache = format_ident!("{}Cache", name);
    let input_ty = vector(&t, &m.input);
    let output_ty = vector(&t, m.output());
    let (d_in, d_out) = (m.input.tokens(), m.output().tokens());

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

    // The cache: every layer's input, and the output.
    let n = m.layers.len();
    let xs: Vec<_> = (0..=n).map(|i| format_ident!("x{}", i)).collect();
    let dims: Vec<&Dim> = std::iter::once(&m.input).chain(m.layers.iter().map(|l| &l.outputs)).collect();
    let cache_fields = (0..=n).map(|i| {
        let (x, ty) = (&xs[i], vector(&t, dims[i]));
        let doc = match i {
            0 => "The network's input.".to_string(),
            i if i == n => format!("The network's output (from {}).", describe_short(&m.layers[i - 1])),
            i => format!("The output of {}.", describe_short(&m.layers[i - 1])),
        };
        quote!(#[doc = #doc] #vis #x: #ty,)
    });

    // Forward: each layer reads the previous value.
    let steps: Vec<TokenStream> = m
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let out = &xs[i + 1];
            let inp = if i == 0 {
                quote!(x)
            } else {
                let v = &xs[i];
                quote!(&#v)
            };
            match &l.kind {
                Kind::Dense { .. } => {
                    let f = &l.name;
                    quote_spanned!(l.span=> let #out = self.#f.forward(#inp);)
                }
                Kind::Activation { kind, param } => {
                    let a = activation(&t, *kind, param.as_ref(), l.span);
                    quote_spanned!(l.span=> let #out = ::nn_core::__private::ActivationLayer::forward(&#a, #inp);)
                }
            }
        })
        .collect();
    let last = &xs[n];
    let rest = &xs[1..];

    // Backward: the layers in reverse, each turning dL/d(output) into dL/d(input).
    let ds: Vec<_> = (0..=n).map(|i| format_ident!("d{}", i)).collect();
    let back = m.layers.iter().enumerate().rev().map(|(i, l)| {
        let (din, dout, xin, xout) = (&ds[i], &ds[i + 1], &xs[i], &xs[i + 1]);
        match &l.kind {
            Kind::Dense { .. } => {
                let f = &l.name;
                quote_spanned!(l.span=> let #din = self.#f.backward(&cache.#xin, &#dout, &mut grads.#f);)
            }
            Kind::Activation { kind, param } => {
                let a = activation(&t, *kind, param.as_ref(), l.span);
                quote_spanned!(l.span=>
                    let #din = ::nn_core::__private::ActivationLayer::backward(&#a, &cache.#xin, &cache.#xout, &#dout);
                )
            }
        }
    });
    let (d_last, d_first) = (&ds[n], &ds[0]);

    // Parameters: each layer's tensors in order, under the layer's name.
    let params: Vec<&Layer> = m.param_layers().collect();
    let counts: Vec<TokenStream> = params
        .iter()
        .map(|l| {
            let ty = layer_type(&t, l);
            quote!(<#ty as ::nn_core::__private::Parameters<#t>>::TENSORS)
        })
        .collect();
    let lookups = |mutable: bool| {
        params.iter().zip(&counts).map(move |(l, count)| {
            let f = &l.name;
            let lit = f.to_string();
            let call = if mutable {
                quote!(::nn_core::__private::Parameters::tensor_mut(&mut self.#f, index))
            } else {
                quote!(::nn_core::__private::Parameters::tensor(&self.#f, index))
            };
            quote! {
                if index < #count {
                    return #call.map(|t| t.in_layer(#lit));
                }
                let index = index - #count;
            }
        })
    };
    let (get, get_mut) = (lookups(false), lookups(true));
    let tensor_count = if counts.is_empty() { quote!(0) } else { quote!(#(#counts)+*) };

    let inits = params.iter().map(|l| {
        let (f, k) = (&l.name, init(l.init));
        quote_spanned!(l.span=> self.#f.init(::nn_core::__private::Init::#k, rng);)
    });

    let checks = m.checks.iter().map(|c| {
        let (cond, msg) = (&c.condition, &c.message);
        quote_spanned!(c.span=> const _: () = ::core::assert!(#cond, #msg);)
    });

    let cache_doc = format!("What [`{name}`]'s training forward keeps for its backward pass: every layer's input.");
    let summary = std::iter::once(format!("input {}", m.input.display()))
        .chain(m.layers.iter().map(describe_short))
        .collect::<Vec<_>>()
        .join(" -> ");
    let summary_doc = format!("The layers, in order: `{summary}`.");

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
        #vis struct #cache {
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

        impl ::nn_core::__private::Initialize for #name {
            fn init<R: ::nn_core::__private::Rng + ?Sized>(&mut self, rng: &mut R) {
                let _ = &rng;
                #(#inits)*
            }
        }

        impl ::nn_core::__private::Parameters<#t> for #name {
            const TENSORS: usize = #tensor_count;

            fn tensor(&self, index: usize) -> ::nn_core::__private::Option<::nn_core::__private::Tensor<'_, #t>> {
                #(#get)*
                let _ = index;
                ::nn_core::__private::None
            }

            fn tensor_mut(
                &mut self,
                index: usize,
            ) -> ::nn_core::__private::Option<::nn_core::__private::TensorMut<'_, #t>> {
                #(#get_mut)*
                let _ = index;
                ::nn_core::__private::None
            }
        }

        impl ::nn_core::__private::Network for #name {
            type Scalar = #t;
            type Input = #input_ty;
            type Output = #output_ty;
            type Cache = #cache;

            #[inline]
            fn forward(&self, x: &Self::Input) -> Self::Output {
                #(#steps)*
                #last
            }

            #[inline]
            fn forward_train(&self, x: &Self::Input) -> (Self::Output, Self::Cache) {
                #(#steps)*
                (#last, #cache { x0: *x, #(#rest),* })
            }

            #[inline]
            fn backward(&self, cache: &Self::Cache, dy: &Self::Output, grads: &mut Self) -> Self::Input {
                let _ = &grads;
                let #d_last = *dy;
                #(#back)*
                #d_first
            }
        }
    }
}

fn describe_short(l: &Layer) -> String {
    match &l.kind {
        Kind::Dense { .. } => format!("{} Dense {}", l.name, l.outputs.display()),
        Kind::Activation { kind, .. } => kind.name().to_string(),
    }
}

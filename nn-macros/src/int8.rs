//! `#[int8]` networks: the declaration's layers as `nn_core::quant` layers (TFLite's int8 scheme), compiled in
//! from an int8 weights file read while the macro expands.
//!
//! The file (as `nn-import` writes it for a `.tflite` model) holds `input.scale` (`F32`, shape `[]`) and
//! `input.zero_point` (`I32`, `[]`), and for every dense or convolutional layer `L`: `L.weight` (`I8`, PyTorch's
//! layout: `[out, in]`, `[out, in / groups, kh, kw]`, `[out, in / groups, k]`), `L.weight_scale` (`F32`, one per
//! output channel), `L.bias` (`I32`, in the scale `s_in * s_w`), `L.output_scale` (`F32`, `[]`) and
//! `L.output_zero_point` (`I32`, `[]`). Activations are channel-last; a ReLU, ReLU6 or hard tanh after a layer is
//! fused into its output clamp, as TFLite fuses them.

use crate::errors::Errors;
use crate::messages;
use crate::model::{Dim, Layer, Model};
use proc_macro2::{Literal, TokenStream};
use quote::quote;
use safetensors::tensor::{Dtype, SafeTensors};
use std::path::Path;

/// What a layer is in an int8 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int8 {
    /// A fully connected layer.
    Dense,
    /// A convolution: ordinary, or depthwise (one group per input channel).
    Conv {
        /// One group per input channel.
        depthwise: bool,
        /// The channels in.
        in_channels: usize,
        /// The channels out.
        out: usize,
        /// Over 2-D planes (the weight has two kernel dimensions), else 1-D.
        two_d: bool,
    },
    /// Max or average pooling.
    Pool {
        /// Max, else average.
        max: bool,
    },
    /// The same values seen as another shape (`Flatten`, `Reshape`).
    Reshape,
    /// A clamp, fused into the layer before it.
    Clamp(Clamp),
    /// Softmax over the vector.
    Softmax,
    /// Nothing at inference (`Identity`, `Dropout`).
    Identity,
    /// Batch normalisation, folded into the dense or convolutional layer right before it when the network is
    /// quantised (an int8 weights file has no tensors for it).
    FoldedNorm,
}

/// An activation an int8 layer applies as a clamp of its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clamp {
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `min(max(x, -1), 1)`.
    ReluN1To1,
}

impl Clamp {
    /// The `nn_core::quant::Fused` value.
    fn tokens(self) -> TokenStream {
        match self {
            Clamp::Relu => quote!(::nn_core::__private::quant::Fused::Relu),
            Clamp::Relu6 => quote!(::nn_core::__private::quant::Fused::Relu6),
            Clamp::ReluN1To1 => quote!(::nn_core::__private::quant::Fused::ReluN1To1),
        }
    }

    /// The stricter of two clamps applied in turn (a ReLU after a ReLU6 changes nothing).
    fn and(self, other: Clamp) -> Clamp {
        match (self, other) {
            (Clamp::Relu, c) | (c, Clamp::Relu) if c != Clamp::ReluN1To1 => {
                if c == Clamp::Relu6 {
                    Clamp::Relu6
                } else {
                    Clamp::Relu
                }
            }
            (a, b) if a == b => a,
            // [0, 6] then [-1, 1], or the reverse: [0, 1], which TFLite has no fused form for; keep the
            // first and report nothing: `stages` refuses the pair before this is reached.
            (a, _) => a,
        }
    }
}

/// A step of the int8 forward pass: a layer, and the clamp fused into its output.
struct Stage<'a> {
    layer: &'a Layer,
    op: Int8,
    clamp: Option<Clamp>,
}

/// The tensors of a layer with parameters, as read from the file.
struct Params {
    weight: Vec<i8>,
    weight_scale: Vec<f32>,
    bias: Vec<i32>,
    output_scale: f32,
    output_zero_point: i32,
}

/// A literal size (`#[weights]` refuses `const` sizes before this runs).
fn lit(d: &Dim) -> usize {
    crate::embed::lit(d)
}

/// The stages of the network: every layer's int8 form, with clamps fused into the layer before them.
fn stages<'a>(m: &'a Model, errors: &mut Errors) -> Vec<Stage<'a>> {
    let mut stages: Vec<Stage> = Vec::new();
    for l in &m.layers {
        let op = match l.kind.int8(l) {
            Ok(op) => op,
            Err(why) => {
                errors.push(syn::Error::new(l.span, messages::no_int8_form(&l.name.to_string(), &why)));
                continue;
            }
        };
        match op {
            Int8::Identity => {}
            Int8::FoldedNorm => {
                let folds =
                    stages.last().is_some_and(|s| matches!(s.op, Int8::Dense | Int8::Conv { .. }) && s.clamp.is_none());
                if !folds {
                    let why =
                        " here: batch normalisation is folded into the dense or convolution layer right before it";
                    errors.push(syn::Error::new(l.span, messages::no_int8_form(&l.name.to_string(), why)));
                }
            }
            Int8::Clamp(c) => {
                // Fused into the last layer that computes (through any reshapes after it).
                let target = stages.iter_mut().rev().find(|s| s.op != Int8::Reshape);
                match target {
                    Some(s) if matches!(s.op, Int8::Dense | Int8::Conv { .. } | Int8::Pool { .. }) => {
                        let mixed = matches!(
                            (s.clamp, c),
                            (Some(Clamp::ReluN1To1), Clamp::Relu | Clamp::Relu6)
                                | (Some(Clamp::Relu | Clamp::Relu6), Clamp::ReluN1To1)
                        );
                        if mixed {
                            let why = " after another clamp of a different range";
                            errors.push(syn::Error::new(l.span, messages::no_int8_form(&l.name.to_string(), why)));
                        }
                        s.clamp = Some(s.clamp.map_or(c, |old| old.and(c)));
                    }
                    _ => {
                        let why = " here: an int8 activation is fused into the dense, convolution or pooling layer \
                                   before it";
                        errors.push(syn::Error::new(l.span, messages::no_int8_form(&l.name.to_string(), why)));
                    }
                }
            }
            op => stages.push(Stage { layer: l, op, clamp: None }),
        }
    }
    if let Some(i) = stages.iter().position(|s| s.op == Int8::Softmax)
        && i + 1 != stages.len()
    {
        let l = stages[i].layer;
        let why = " except as the last layer (its output scale is fixed at 1/256)";
        errors.push(syn::Error::new(l.span, messages::no_int8_form(&l.name.to_string(), why)));
    }
    stages
}

/// A scalar `F32` or `I32` tensor's value, `None` (with an error) when missing or malformed.
fn scalar<T>(
    file: &SafeTensors,
    name: &str,
    dtype: Dtype,
    shown: &str,
    at: &syn::LitStr,
    errors: &mut Errors,
    parse: fn([u8; 4]) -> T,
) -> Option<T> {
    let view = match file.tensor(name) {
        Ok(v) => v,
        Err(_) => {
            errors.at(at, messages::missing_tensor(name, shown));
            return None;
        }
    };
    if !view.shape().is_empty() {
        errors.at(at, messages::tensor_shape_differs(name, view.shape(), shown, &[]));
        return None;
    }
    if view.dtype() != dtype {
        errors.at(at, messages::int8_tensor_dtype_differs(name, view.dtype(), shown, &format!("{dtype:?}")));
        return None;
    }
    let b = view.data();
    Some(parse([b[0], b[1], b[2], b[3]]))
}

/// A tensor of `shape` and `dtype`, as raw little-endian bytes.
fn tensor<'f>(
    file: &'f SafeTensors,
    name: &str,
    dtype: Dtype,
    shape: &[usize],
    shown: &str,
    at: &syn::LitStr,
    errors: &mut Errors,
) -> Option<&'f [u8]> {
    let Ok(view) = file.tensor(name) else {
        errors.at(at, messages::missing_tensor(name, shown));
        return None;
    };
    if view.shape() != shape {
        errors.at(at, messages::tensor_shape_differs(name, view.shape(), shown, shape));
        return None;
    }
    if view.dtype() != dtype {
        errors.at(at, messages::int8_tensor_dtype_differs(name, view.dtype(), shown, &format!("{dtype:?}")));
        return None;
    }
    Some(view.data())
}

/// A scale must be positive and finite, a zero point an `i8`.
fn check_params(name: &str, scale: f32, zero_point: i32, at: &syn::LitStr, errors: &mut Errors) -> bool {
    let ok = scale.is_finite() && scale > 0.0 && (-128..=127).contains(&zero_point);
    if !ok {
        errors.at(at, messages::bad_quant_params(name, scale, zero_point));
    }
    ok
}

/// The external (PyTorch) shape of a layer's weight.
fn weight_shape(s: &Stage) -> Vec<usize> {
    let l = s.layer;
    match s.op {
        Int8::Dense => vec![lit(&l.outputs), lit(&l.inputs)],
        Int8::Conv { depthwise, in_channels, out, two_d } => {
            let g = l.geometry.as_ref().expect("a convolution has a geometry");
            let per_group = if depthwise { 1 } else { in_channels };
            if two_d { vec![out, per_group, g.kh, g.kw] } else { vec![out, per_group, g.kw] }
        }
        _ => Vec::new(),
    }
}

/// Reads the parameters of every dense and convolutional stage, and the input's parameters.
#[allow(clippy::type_complexity)]
fn read(
    m: &Model,
    stages: &[Stage],
    base: &Path,
    errors: &mut Errors,
) -> Option<(std::path::PathBuf, (f32, i32), Vec<Option<Params>>)> {
    let at = m.weights.as_ref()?;
    let shown = at.value();
    let path = base.join(&shown);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            errors.at(at, messages::unreadable_weights(&shown, &path.display().to_string(), e));
            return None;
        }
    };
    let file = match SafeTensors::deserialize(&bytes) {
        Ok(f) => f,
        Err(e) => {
            errors.at(at, messages::not_safetensors(&shown, e));
            return None;
        }
    };
    let f32_of = |b: [u8; 4]| f32::from_le_bytes(b);
    let i32_of = |b: [u8; 4]| i32::from_le_bytes(b);
    let mut known = vec!["input.scale".to_string(), "input.zero_point".to_string()];
    let input_scale = scalar(&file, "input.scale", Dtype::F32, &shown, at, errors, f32_of);
    let input_zp = scalar(&file, "input.zero_point", Dtype::I32, &shown, at, errors, i32_of);
    let input = match (input_scale, input_zp) {
        (Some(s), Some(z)) if check_params("input", s, z, at, errors) => Some((s, z)),
        _ => None,
    };
    let mut params = Vec::new();
    for s in stages {
        if !matches!(s.op, Int8::Dense | Int8::Conv { .. }) {
            params.push(None);
            continue;
        }
        let l = s.layer;
        let name = |t: &str| format!("{}.{t}", l.name);
        let out = match s.op {
            Int8::Conv { out, .. } => out,
            _ => lit(&l.outputs),
        };
        known.extend(["weight", "weight_scale", "bias", "output_scale", "output_zero_point"].map(name));
        let w = tensor(&file, &name("weight"), Dtype::I8, &weight_shape(s), &shown, at, errors);
        let ws = tensor(&file, &name("weight_scale"), Dtype::F32, &[out], &shown, at, errors);
        let b = tensor(&file, &name("bias"), Dtype::I32, &[out], &shown, at, errors);
        let os = scalar(&file, &name("output_scale"), Dtype::F32, &shown, at, errors, f32_of);
        let oz = scalar(&file, &name("output_zero_point"), Dtype::I32, &shown, at, errors, i32_of);
        let (Some(w), Some(ws), Some(b), Some(os), Some(oz)) = (w, ws, b, os, oz) else {
            params.push(None);
            continue;
        };
        let weight_scale: Vec<f32> = ws.chunks_exact(4).map(|c| f32_of([c[0], c[1], c[2], c[3]])).collect();
        if let Some(k) = weight_scale.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            errors.at(at, messages::bad_quant_params(&format!("{}[{k}]", name("weight_scale")), weight_scale[k], 0));
        }
        check_params(&l.name.to_string(), os, oz, at, errors);
        params.push(Some(Params {
            weight: w.iter().map(|&b| b as i8).collect(),
            weight_scale,
            bias: b.chunks_exact(4).map(|c| i32_of([c[0], c[1], c[2], c[3]])).collect(),
            output_scale: os,
            output_zero_point: oz,
        }));
    }
    let mut extra: Vec<&str> = file.names().into_iter().filter(|n| !known.iter().any(|k| k == n)).collect();
    extra.sort_unstable();
    for n in extra {
        errors.at(at, messages::undeclared_tensor(&shown, n, &m.name.to_string()));
    }
    let path = path.canonicalize().unwrap_or(path);
    Some((path, input?, params))
}

/// `nn_core::quant::Window { .. }` of a convolution or pooling stage.
fn window(l: &Layer) -> (TokenStream, usize, usize) {
    let g = l.geometry.as_ref().expect("convolutions and pools have a geometry");
    let (h, w, c) =
        (crate::embed::lit(&g.h.to_dim()), crate::embed::lit(&g.w.to_dim()), crate::embed::lit(&g.channels.to_dim()));
    let span =
        |n: usize, k: usize, s: usize, p: usize, extra: usize, d: usize| (n + 2 * p + extra - d * (k - 1) - 1) / s + 1;
    let out_h = span(h, g.kh, g.sh, g.ph, g.uneven.0, g.dh);
    let out_w = span(w, g.kw, g.sw, g.pw, g.uneven.1, g.dw);
    let [hh, ww, cc, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow] =
        [h, w, c, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.ph, g.pw, out_h, out_w].map(Literal::usize_unsuffixed);
    (
        quote!(::nn_core::__private::quant::Window {
            h: #hh, w: #ww, channels: #cc, kh: #kh, kw: #kw, sh: #sh, sw: #sw, dh: #dh, dw: #dw,
            pad_top: #pt, pad_left: #pl, out_h: #oh, out_w: #ow,
        }),
        out_h,
        out_w,
    )
}

/// The type of a stage's field.
fn field_type(s: &Stage) -> TokenStream {
    let q = quote!(::nn_core::__private::quant);
    let l = s.layer;
    match s.op {
        Int8::Dense => {
            let (i, o) = (Literal::usize_unsuffixed(lit(&l.inputs)), Literal::usize_unsuffixed(lit(&l.outputs)));
            quote!(#q::QDense<#i, #o>)
        }
        Int8::Conv { depthwise, in_channels, out, .. } => {
            let g = l.geometry.as_ref().expect("a convolution has a geometry");
            let co = Literal::usize_unsuffixed(out);
            if depthwise {
                let kk = Literal::usize_unsuffixed(g.kh * g.kw);
                quote!(#q::QDepthwiseConv2d<#co, #kk>)
            } else {
                let k = Literal::usize_unsuffixed(g.kh * g.kw * in_channels);
                quote!(#q::QConv2d<#co, #k>)
            }
        }
        Int8::Pool { .. } => quote!(#q::QPool2d),
        _ => quote!(#q::QSoftmax),
    }
}

/// The generated int8 network, or every error of its declaration and file: compiled in (`TRAINED`) with
/// `#[weights]`, else read at run time (`load`).
pub fn expand(m: &Model, base: &Path) -> Result<TokenStream, syn::Error> {
    let mut errors = Errors::default();
    let stages = stages(m, &mut errors);
    let read = if m.weights.is_some() { read(m, &stages, base, &mut errors) } else { None };
    errors.finish()?;
    let (vis, name, attrs) = (&m.vis, &m.name, &m.attrs);
    let q = quote!(::nn_core::__private::quant);
    let qparams = |s: f32, z: i32| {
        let s = Literal::f32_suffixed(s);
        quote!(#q::QuantParams::new(#s, #z))
    };
    let fused_of = |s: &Stage| s.clamp.map_or(quote!(#q::Fused::None), Clamp::tokens);
    let computes = |s: &Stage| matches!(s.op, Int8::Dense | Int8::Conv { .. } | Int8::Pool { .. } | Int8::Softmax);
    let mut fields = Vec::new();
    let mut steps = Vec::new();
    for s in stages.iter().filter(|s| computes(s)) {
        let (f, ty) = (&s.layer.name, field_type(s));
        let doc = format!("`{}`, in int8.", s.layer.kind.describe_short(s.layer));
        fields.push(quote!(#[doc = #doc] pub #f: #ty,));
        steps.push((f.clone(), lit(&s.layer.inputs), lit(&s.layer.outputs)));
    }
    let (inputs, outputs) = (lit(&m.input), lit(m.output()));
    // Each layer's output lives in a block that ends once the next layer has read it, so only two
    // activations are alive at a time.
    let mut body = quote!(*x);
    for (f, n_in, n_out) in &steps {
        let (i, o) = (Literal::usize_unsuffixed(*n_in), Literal::usize_unsuffixed(*n_out));
        body = quote! {{
            let a: [i8; #i] = #body;
            let mut y = [0i8; #o];
            self.#f.forward(&a, &mut y);
            y
        }};
    }
    let (i, o) = (Literal::usize_unsuffixed(inputs), Literal::usize_unsuffixed(outputs));
    let construction = match read {
        Some((path, (in_scale, in_zp), params)) => {
            let mut values = Vec::new();
            let (mut scale, mut zp) = (in_scale, in_zp);
            for (s, p) in stages.iter().zip(&params) {
                let l = s.layer;
                let f = &l.name;
                let n_in = lit(&l.inputs);
                let fused = fused_of(s);
                let clamp = |scale: f32, zp: i32| {
                    let p = qparams(scale, zp);
                    quote!(#fused.range(#p))
                };
                let value = match (s.op, p) {
                    (Int8::Dense | Int8::Conv { .. }, Some(p)) => {
                        let multipliers = p.weight_scale.iter().map(|&ws| {
                            let m = Literal::f64_suffixed(f64::from(scale) * f64::from(ws) / f64::from(p.output_scale));
                            quote!(#q::Multiplier::from_real(#m))
                        });
                        let bias = &p.bias;
                        let range = clamp(p.output_scale, p.output_zero_point);
                        let (in_zp, out_zp) = (zp, p.output_zero_point);
                        let common = quote! {
                            bias: [#(#bias),*],
                            multiplier: [#(#multipliers),*],
                            input_zero_point: #in_zp,
                            output_zero_point: #out_zp,
                            min: #range.0,
                            max: #range.1,
                        };
                        let v = match s.op {
                            Int8::Dense => {
                                let rows = p.weight.chunks(n_in.max(1)).map(|r| quote!([#(#r),*]));
                                quote!(#q::QDense { weight: [#(#rows),*], #common })
                            }
                            Int8::Conv { depthwise: true, out, .. } => {
                                let g = l.geometry.as_ref().expect("a convolution has a geometry");
                                let (win, _, _) = window(l);
                                let taps = g.kh * g.kw;
                                // File `[out, 1, kh, kw]`; kernel rows per tap: `weight[tap][out]`.
                                let rows = (0..taps).map(|t| {
                                    let r = (0..out).map(|o| p.weight[o * taps + t]);
                                    quote!([#(#r),*])
                                });
                                quote!(#q::QDepthwiseConv2d { window: #win, weight: [#(#rows),*], #common })
                            }
                            Int8::Conv { in_channels, out, .. } => {
                                let g = l.geometry.as_ref().expect("a convolution has a geometry");
                                let (win, _, _) = window(l);
                                let taps = g.kh * g.kw;
                                // File `[out, c, kh, kw]`; kernel rows `[out][(tap, c)]` (channel-last).
                                let rows = (0..out).map(|o| {
                                    let r = (0..taps)
                                        .flat_map(|t| (0..in_channels).map(move |c| (o * in_channels + c) * taps + t))
                                        .map(|i| p.weight[i]);
                                    quote!([#(#r),*])
                                });
                                quote!(#q::QConv2d { window: #win, weight: [#(#rows),*], #common })
                            }
                            _ => unreachable!("matched above"),
                        };
                        (scale, zp) = (p.output_scale, p.output_zero_point);
                        v
                    }
                    (Int8::Pool { max }, _) => {
                        let kind = if max { quote!(#q::PoolKind::Max) } else { quote!(#q::PoolKind::Average) };
                        let (win, _, _) = window(l);
                        let range = clamp(scale, zp);
                        quote!(#q::QPool2d { kind: #kind, window: #win, min: #range.0, max: #range.1 })
                    }
                    (Int8::Softmax, _) => {
                        // TFLite's table, `exp(-s_in * beta * d)` in `f32`, computed here once.
                        let step = -scale;
                        let table = (0..256).map(|i| Literal::f32_suffixed((step * (255 - i) as f32).exp()));
                        (scale, zp) = (1.0 / 256.0, -128);
                        let out = qparams(scale, zp);
                        quote!(#q::QSoftmax { table: [#(#table),*], output: #out })
                    }
                    _ => continue,
                };
                values.push(quote!(#f: #value,));
            }
            let (input, output) = (qparams(in_scale, in_zp), qparams(scale, zp));
            let file = path.display().to_string();
            let doc = format!("`{name}` with the int8 weights of `{file}`, compiled in as constant data.");
            quote! {
                impl #name {
                    #[doc = #doc]
                    #vis const TRAINED: Self = Self { input_params: #input, output_params: #output, #(#values)* };
                }

                const _: &[u8] = ::core::include_bytes!(#file);
            }
        }
        None => {
            let mut loads = Vec::new();
            for s in &stages {
                let l = s.layer;
                let (f, label) = (&l.name, l.name.to_string());
                let fused = fused_of(s);
                loads.push(match s.op {
                    Int8::Dense => quote!(params = file.dense(#label, params, #fused, &mut net.#f)?;),
                    Int8::Conv { depthwise, two_d, .. } => {
                        let (win, _, _) = window(l);
                        let call = if depthwise { quote!(depthwise) } else { quote!(conv) };
                        quote!(params = file.#call(#label, params, #fused, #win, #two_d, &mut net.#f)?;)
                    }
                    Int8::Pool { max } => {
                        let kind = if max { quote!(#q::PoolKind::Max) } else { quote!(#q::PoolKind::Average) };
                        let (win, _, _) = window(l);
                        quote! {
                            let (min, max) = #fused.range(params);
                            net.#f = #q::QPool2d { kind: #kind, window: #win, min, max };
                        }
                    }
                    Int8::Softmax => quote! {
                        net.#f = #q::QSoftmax::new(params.scale, 1.0);
                        params = #q::QSoftmax::OUTPUT;
                    },
                    _ => continue,
                });
            }
            quote! {
                impl #name {
                    /// The network read from an int8 weights file (as `nn_core::quant::quantize` or `nn-import`
                    /// writes it), on the heap; every missing, misshapen, unexpected or unusable tensor is an
                    /// `Err` naming it.
                    #vis fn load(bytes: &[u8]) -> ::core::result::Result<
                        ::nn_core::__private::Box<Self>,
                        ::nn_core::__private::WeightsError,
                    > {
                        let mut file = #q::Int8File::parse(bytes)?;
                        let mut net: ::nn_core::__private::Box<Self> = ::nn_core::__private::bytemuck::zeroed_box();
                        let mut params = file.input()?;
                        net.input_params = params;
                        #(#loads)*
                        net.output_params = params;
                        file.finish()?;
                        ::core::result::Result::Ok(net)
                    }
                }
            }
        }
    };
    Ok(quote! {
        #(#attrs)*
        #[derive(Clone, Debug, PartialEq, ::nn_core::__private::bytemuck::Zeroable)]
        #[bytemuck(crate = "::nn_core::__private::bytemuck")]
        #vis struct #name {
            /// The input's quantisation.
            pub input_params: #q::QuantParams,
            /// The output's quantisation.
            pub output_params: #q::QuantParams,
            #(#fields)*
        }

        impl #name {
            /// Values in, per sample.
            #vis const INPUTS: usize = #i;
            /// Values out, per sample.
            #vis const OUTPUTS: usize = #o;

            /// Inference on one int8 sample (channel-last planes); allocates nothing.
            #[inline]
            #vis fn forward(&self, x: &[i8; #i]) -> [i8; #o] {
                #body
            }

            /// Real values quantised with the input's parameters (TFLite's `Quantize`), in the order `forward`
            /// takes.
            #vis fn quantize(&self, x: &[f32; #i]) -> [i8; #i] {
                ::core::array::from_fn(|k| self.input_params.quantize(x[k]))
            }

            /// Outputs as real values.
            #vis fn dequantize(&self, y: &[i8; #o]) -> [f32; #o] {
                ::core::array::from_fn(|k| self.output_params.dequantize(y[k]))
            }

            /// Quantise, infer, dequantise.
            #vis fn predict(&self, x: &[f32; #i]) -> [f32; #o] {
                self.dequantize(&self.forward(&self.quantize(x)))
            }
        }

        #construction
    })
}

/// For an `f32`/`f64` network whose every layer has an int8 form: `impl nn_core::quant::Quantize`, so that
/// `nn_core::quant::quantize` can turn it into an int8 weights file. `None` for other networks.
pub fn quantize_impl(m: &Model) -> Option<TokenStream> {
    let mut errors = Errors::default();
    let stages = stages(m, &mut errors);
    if errors.finish().is_err() || m.layers.iter().any(|l| l.kind.int8(l).is_err()) {
        return None;
    }
    let _ = stages;
    let q = quote!(::nn_core::__private::quant);
    let literal = |s: &crate::model::Sz| match s {
        crate::model::Sz::Lit(n) => Some(*n),
        crate::model::Sz::Expr(..) => None,
    };
    // The planes arriving at each layer: from the input, and after every convolution and pooling.
    let mut planes: Option<(usize, usize, usize)> = match &m.input_planes {
        crate::model::Planes::Spatial { c, h, w, .. } => Some((literal(c)?, literal(h)?, literal(w)?)),
        _ => None,
    };
    let mut entries = Vec::new();
    let mut outs = Vec::new();
    let mut reshaped = false;
    for (i, l) in m.layers.iter().enumerate() {
        let op = l.kind.int8(l).ok()?;
        let (n_in, n_out) = (lit(&l.inputs), lit(&l.outputs));
        if matches!(l.inputs, Dim::Const(_)) || matches!(l.outputs, Dim::Const(_)) {
            return None;
        }
        let p = match planes {
            Some((c, h, w)) => quote!(::core::option::Option::Some((#c, #h, #w))),
            None => quote!(::core::option::Option::None),
        };
        let mut kernel = (0, 0);
        let kind = match op {
            Int8::Dense => {
                // The planes a dense layer reads (through `Flatten`) must be the last ones seen.
                if planes.is_some_and(|(c, h, w)| c * h * w != n_in) {
                    return None;
                }
                quote!(#q::StageKind::Dense)
            }
            Int8::Conv { depthwise, two_d, .. } => {
                let g = l.geometry.as_ref()?;
                kernel = (g.kh, g.kw);
                quote!(#q::StageKind::Conv { depthwise: #depthwise, two_d: #two_d })
            }
            Int8::FoldedNorm => quote!(#q::StageKind::BatchNorm),
            Int8::Pool { .. } => quote!(#q::StageKind::Pool),
            Int8::Reshape => {
                reshaped = true;
                quote!(#q::StageKind::Reshape)
            }
            Int8::Clamp(c) => {
                let f = c.tokens();
                quote!(#q::StageKind::Clamp(#f))
            }
            Int8::Softmax => quote!(#q::StageKind::Softmax),
            Int8::Identity => quote!(#q::StageKind::Identity),
        };
        // After a reshape, planes again (a `Reshape([c, h, w])` before a convolution) would be read in
        // another order by the int8 form: no int8 form then.
        if reshaped && matches!(op, Int8::Conv { .. } | Int8::Pool { .. }) {
            return None;
        }
        match op {
            Int8::Conv { out, .. } => {
                let (_, oh, ow) = window(l);
                planes = Some((out, oh, ow));
            }
            Int8::Pool { .. } => {
                let (_, oh, ow) = window(l);
                planes = planes.map(|(c, _, _)| (c, oh, ow));
            }
            Int8::Dense => planes = None,
            _ => {}
        }
        let (kh, kw) = kernel;
        let label = l.name.to_string();
        entries.push(quote! {
            #q::Stage { name: #label, kind: #kind, inputs: #n_in, outputs: #n_out, planes: #p, kernel: (#kh, #kw) }
        });
        let x = quote::format_ident!("x{}", i + 1);
        outs.push(quote!(#i => cache.cache.#x.as_slice(),));
    }
    let name = &m.name;
    Some(quote! {
        impl #q::Quantize for #name {
            const STAGES: &'static [#q::Stage] = &[#(#entries),*];

            fn stage_output(cache: &Self::BatchCache<1>, i: usize) -> &[Self::Scalar] {
                match i {
                    #(#outs)*
                    _ => &[],
                }
            }

            fn stage_input(cache: &Self::BatchCache<1>) -> &[Self::Scalar] {
                cache.cache.x0.as_slice()
            }
        }
    })
}

//! Forward values of the convolution kernels checked against `tests/fixtures/conv/conv_reference.txt`, an
//! independent numpy implementation with PyTorch semantics (see the `README.md` next to it).
//!
//! Every case of the file is run through the kernels of `conv.rs` and every output value must match to 1e-12,
//! relative to `max(1, |reference|)`. The kernels take their sizes as const generics, so each op dispatches over
//! the explicit list of sizes that occur in the file; a case with a size not in a list panics, naming the list to
//! extend.

use super::{Geometry, Pool, conv_backward, conv_forward, conv_out, conv_transpose_out};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use nalgebra::SMatrix;

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/conv/conv_reference.txt");

/// Tolerance on `|got - reference| / max(1, |reference|)`.
const TOLERANCE: f64 = 1e-12;

/// A `C x H x W` tensor, channel-major.
struct Chw {
    c: usize,
    h: usize,
    w: usize,
    values: Vec<f64>,
}

/// One block of the file.
struct Case {
    name: String,
    op: String,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
    dh: usize,
    dw: usize,
    oph: usize,
    opw: usize,
    kh: usize,
    kw: usize,
    input: Chw,
    /// Dimensions and values; conv ops only.
    weight: Option<([usize; 4], Vec<f64>)>,
    /// Conv ops only.
    bias: Option<Vec<f64>>,
    output: Chw,
}

impl Case {
    fn weight(&self) -> (&[usize; 4], &[f64]) {
        let (dims, values) = self.weight.as_ref().unwrap_or_else(|| panic!("{}: no weight", self.name));
        (dims, values)
    }

    fn bias(&self) -> &[f64] {
        self.bias.as_deref().unwrap_or_else(|| panic!("{}: no bias", self.name))
    }
}

fn number<T: core::str::FromStr>(token: &str, what: &str, line: usize) -> T {
    token.parse().unwrap_or_else(|_| panic!("line {line}: bad {what} {token:?}"))
}

/// `n` dimensions, then exactly their product of values.
fn dims_and_values<const N: usize>(tokens: &[&str], line: usize) -> ([usize; N], Vec<f64>) {
    assert!(tokens.len() >= N, "line {line}: expected {N} dimensions");
    let dims: [usize; N] = core::array::from_fn(|i| number(tokens[i], "dimension", line));
    let values: Vec<f64> = tokens[N..].iter().map(|t| number(t, "value", line)).collect();
    let expected: usize = dims.iter().product();
    assert_eq!(values.len(), expected, "line {line}: {dims:?} needs {expected} values");
    (dims, values)
}

fn chw(tokens: &[&str], line: usize) -> Chw {
    let ([c, h, w], values) = dims_and_values::<3>(tokens, line);
    Chw { c, h, w, values }
}

/// Parses the whole file strictly: every line must belong to a complete block.
fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(PATH).unwrap_or_else(|e| panic!("reading {PATH}: {e}"));
    let mut out: Vec<Case> = Vec::new();
    let mut header: Option<(String, String, BTreeMap<String, usize>)> = None;
    let (mut input, mut weight, mut bias, mut output) = (None, None, None, None);
    for (i, text_line) in text.lines().enumerate() {
        let line = i + 1;
        let tokens: Vec<&str> = text_line.split(' ').collect();
        let (keyword, rest) = (tokens[0], &tokens[1..]);
        if keyword != "case" {
            assert!(header.is_some(), "line {line}: {keyword:?} outside a case block");
        }
        match keyword {
            "case" => {
                assert!(header.is_none(), "line {line}: case inside a case block");
                assert!(rest.len() >= 2, "line {line}: case needs a name and an op");
                let params = rest[2..]
                    .iter()
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("line {line}: bad parameter {kv:?}"));
                        (k.to_string(), number(v, "parameter", line))
                    })
                    .collect();
                header = Some((rest[0].to_string(), rest[1].to_string(), params));
            }
            "input" => input = Some(chw(rest, line)),
            "output" => output = Some(chw(rest, line)),
            "weight" => weight = Some(dims_and_values::<4>(rest, line)),
            "bias" => {
                let ([n], values) = dims_and_values::<1>(rest, line);
                assert_eq!(n, values.len());
                bias = Some(values);
            }
            "end" => {
                let (name, op, params) = header.take().unwrap();
                assert_eq!(params.len(), 10, "{name}: expected 10 parameters, got {params:?}");
                let p = |k: &str| *params.get(k).unwrap_or_else(|| panic!("{name}: missing parameter {k}"));
                out.push(Case {
                    sh: p("sh"),
                    sw: p("sw"),
                    ph: p("ph"),
                    pw: p("pw"),
                    dh: p("dh"),
                    dw: p("dw"),
                    oph: p("oph"),
                    opw: p("opw"),
                    kh: p("kh"),
                    kw: p("kw"),
                    input: input.take().unwrap_or_else(|| panic!("{name}: no input")),
                    output: output.take().unwrap_or_else(|| panic!("{name}: no output")),
                    weight: weight.take(),
                    bias: bias.take(),
                    name,
                    op,
                });
            }
            other => panic!("line {line}: unknown keyword {other:?}"),
        }
    }
    assert!(header.is_none(), "unterminated case block at the end of the file");
    let mut names: Vec<&str> = out.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), out.len(), "case names are not unique");
    out
}

/// The cases of one op, with the parameters it does not use checked to be neutral.
fn cases_of(all: &[Case], op: &str) -> Vec<usize> {
    let picked: Vec<usize> = (0..all.len()).filter(|&i| all[i].op == op).collect();
    for &i in &picked {
        let c = &all[i];
        if op != "conv_transpose2d" {
            assert_eq!((c.oph, c.opw), (0, 0), "{}: output padding outside conv_transpose2d", c.name);
        }
        if op.ends_with("pool2d") {
            assert_eq!(
                (c.ph, c.pw, c.dh, c.dw),
                (0, 0, 1, 1),
                "{}: the pooling cases have no padding or dilation",
                c.name
            );
            assert!(c.weight.is_none() && c.bias.is_none(), "{}: pools have no parameters", c.name);
        }
    }
    picked
}

/// Largest absolute and scaled error over all compared values.
#[derive(Default)]
struct Errors {
    abs: f64,
    scaled: f64,
    values: usize,
}

/// Compares `got` to `case.output`, panicking at the first value out of tolerance.
fn compare(case: &Case, context: &str, got: &[f64], errors: &mut Errors) {
    let want = &case.output;
    assert_eq!(got.len(), want.values.len(), "{}: output length ({context})", case.name);
    let plane = want.h * want.w;
    for (i, (&g, &r)) in got.iter().zip(&want.values).enumerate() {
        let abs = (g - r).abs();
        let scaled = abs / r.abs().max(1.0);
        assert!(
            scaled <= TOLERANCE,
            "{}: output[c={}, h={}, w={}] = {g:e}, reference {r:e} (error {abs:e}); {context}",
            case.name,
            i / plane,
            i % plane / want.w,
            i % want.w,
        );
        errors.abs = errors.abs.max(abs);
        errors.scaled = errors.scaled.max(scaled);
    }
    errors.values += got.len();
}

/// Output initialised to `bias[c]` over `C` planes of `plane` values.
fn biased(bias: &[f64], plane: usize) -> Vec<f64> {
    bias.iter().flat_map(|&b| core::iter::repeat_n(b, plane)).collect()
}

/// Lists the const-generic pairs a kernel is instantiated for; any other pair panics, naming the list.
macro_rules! dispatch {
    ($list:literal, $key:expr, $run:ident, [$(($a:literal, $b:literal)),* $(,)?], $args:tt) => {
        match $key {
            $(($a, $b) => $run::<$a, $b> $args,)*
            (a, b) => panic!(
                "no kernel instantiation for {} = ({a}, {b}): add it to the {} list in conv_reference.rs",
                $list, $list,
            ),
        }
    };
}

fn run_conv<const CO: usize, const K: usize>(g: &Geometry, weight: &[f64], bias: &[f64], x: &[f64]) -> Vec<f64> {
    let w = SMatrix::<f64, CO, K>::from_row_slice(weight);
    let mut y = biased(bias, g.positions());
    conv_forward(&w, g, x, &mut y);
    y
}

fn run_conv_transpose<const CI: usize, const KT: usize>(
    g: &Geometry,
    weight: &[f64],
    bias: &[f64],
    x: &[f64],
) -> Vec<f64> {
    let w = SMatrix::<f64, CI, KT>::from_row_slice(weight);
    let mut y = biased(bias, g.h * g.w);
    conv_backward(&w, g, &[], x, None, &mut y);
    y
}

fn run_pool<const IN: usize, const OUT: usize>(pool: Pool, g: &Geometry, x: &[f64]) -> Vec<f64> {
    let x = SMatrix::<f64, IN, 1>::from_column_slice(x);
    pool.forward::<f64, IN, OUT, 1>(g, &x).as_slice().to_vec()
}

#[test]
fn reference_file_has_the_documented_cases() {
    let all = cases();
    assert_eq!(all.len(), 79);
    let count = |op| cases_of(&all, op).len();
    assert_eq!(
        [count("conv2d"), count("conv_transpose2d"), count("max_pool2d"), count("avg_pool2d")],
        [34, 21, 12, 12]
    );
}

#[test]
fn conv2d_matches_reference() {
    let all = cases();
    let mut errors = Errors::default();
    let mut checked = 0;
    for i in cases_of(&all, "conv2d") {
        let c = &all[i];
        let (x, y) = (&c.input, &c.output);
        let (dims, weight) = c.weight();
        let g = Geometry::new2d(x.c, x.h, x.w, (c.kh, c.kw), (c.sh, c.sw), (c.ph, c.pw), (c.dh, c.dw));
        assert_eq!(*dims, [y.c, x.c, c.kh, c.kw], "{}: weight is not [co, ci, kh, kw]", c.name);
        assert_eq!((g.out_h(), g.out_w()), (y.h, y.w), "{}: output size of {g:?}", c.name);
        assert_eq!(c.bias().len(), y.c, "{}: bias length", c.name);
        let got = dispatch!(
            "(CO, K)",
            (y.c, g.receptive()),
            run_conv,
            [
                (1, 1),
                (1, 4),
                (1, 6),
                (1, 8),
                (1, 9),
                (1, 12),
                (1, 18),
                (2, 2),
                (2, 3),
                (2, 4),
                (2, 8),
                (2, 12),
                (2, 18),
                (2, 27),
                (3, 6),
                (3, 12),
                (4, 1),
                (4, 3),
                (4, 4),
                (4, 6),
                (4, 9),
                (4, 12),
                (4, 18),
                (4, 27),
            ],
            (&g, weight, c.bias(), &x.values)
        );
        compare(c, &format!("{g:?}"), &got, &mut errors);
        checked += 1;
    }
    assert_eq!(checked, 34);
    std::println!("conv2d: {checked} cases, {} values, max abs error {:e}", errors.values, errors.abs);
}

/// The transposed convolution is the adjoint of the forward convolution over its output. When output padding is
/// at least the stride (dilation larger than stride), that forward convolution has trailing output rows or
/// columns beyond the transposed layer's input; they are zero-filled, which is exactly PyTorch's semantics
/// (nothing is scattered from them, and the bias still covers the whole output).
#[test]
fn conv_transpose2d_matches_reference() {
    let all = cases();
    let mut errors = Errors::default();
    let (mut checked, mut extended) = (0, 0);
    for i in cases_of(&all, "conv_transpose2d") {
        let c = &all[i];
        let (x, y) = (&c.input, &c.output);
        let (dims, weight) = c.weight();
        assert_eq!(*dims, [x.c, y.c, c.kh, c.kw], "{}: weight is not [ci, co, kh, kw]", c.name);
        assert_eq!(
            (
                conv_transpose_out(x.h, c.kh, c.sh, c.ph, c.dh, c.oph),
                conv_transpose_out(x.w, c.kw, c.sw, c.pw, c.dw, c.opw)
            ),
            (y.h, y.w),
            "{}: transposed output size",
            c.name
        );
        assert_eq!(c.bias().len(), y.c, "{}: bias length", c.name);
        let g = Geometry::new2d(y.c, y.h, y.w, (c.kh, c.kw), (c.sh, c.sw), (c.ph, c.pw), (c.dh, c.dw));
        let (gh, gw) = (g.out_h(), g.out_w());
        let input = if (gh, gw) == (x.h, x.w) {
            assert!(c.oph < c.sh && c.opw < c.sw, "{}: {g:?} matches the input despite output padding", c.name);
            x.values.clone()
        } else {
            // Output padding >= stride: (gh, gw) = (ih + oph / sh, iw + opw / sw).
            assert!(c.oph >= c.sh || c.opw >= c.sw, "{}: {g:?} gives {gh}x{gw}, input {}x{}", c.name, x.h, x.w);
            assert_eq!((gh, gw), (x.h + c.oph / c.sh, x.w + c.opw / c.sw), "{}: {g:?}", c.name);
            assert_eq!((conv_out(y.h, c.kh, c.sh, c.ph, c.dh), conv_out(y.w, c.kw, c.sw, c.pw, c.dw)), (gh, gw));
            extended += 1;
            let mut padded = vec![0.0; x.c * gh * gw];
            for (ci, plane) in x.values.chunks_exact(x.h * x.w).enumerate() {
                for (row, values) in plane.chunks_exact(x.w).enumerate() {
                    let start = ci * gh * gw + row * gw;
                    padded[start..start + x.w].copy_from_slice(values);
                }
            }
            padded
        };
        let got = dispatch!(
            "(CI, KT)",
            (x.c, g.receptive()),
            run_conv_transpose,
            [(1, 6), (1, 12), (1, 24), (2, 4), (2, 9), (2, 18), (3, 2), (3, 16), (3, 18)],
            (&g, weight, c.bias(), &input)
        );
        compare(c, &format!("forward conv {g:?}"), &got, &mut errors);
        checked += 1;
    }
    assert_eq!(checked, 21);
    // The three stride-1, dilation-2, output-padding-1 cases (`..._s1x1_..._d2x2_..._op1x1_...`).
    assert_eq!(extended, 3, "cases whose output padding is at least the stride");
    std::println!(
        "conv_transpose2d: {checked} cases ({extended} zero-extended), {} values, max abs error {:e}",
        errors.values,
        errors.abs
    );
}

#[test]
fn pools_match_reference() {
    let all = cases();
    for (op, pool) in [("max_pool2d", Pool::Max), ("avg_pool2d", Pool::Avg)] {
        let mut errors = Errors::default();
        let mut checked = 0;
        for i in cases_of(&all, op) {
            let c = &all[i];
            let (x, y) = (&c.input, &c.output);
            let g = Geometry::new2d(x.c, x.h, x.w, (c.kh, c.kw), (c.sh, c.sw), (0, 0), (1, 1));
            assert_eq!(x.c, y.c, "{}: pooling keeps the channels", c.name);
            assert_eq!((g.out_h(), g.out_w()), (y.h, y.w), "{}: output size of {g:?}", c.name);
            let got = dispatch!(
                "(IN, OUT)",
                (x.values.len(), y.values.len()),
                run_pool,
                [
                    (8, 6),
                    (18, 8),
                    (25, 4),
                    (30, 12),
                    (42, 20),
                    (50, 32),
                    (64, 9),
                    (84, 12),
                    (84, 18),
                    (84, 30),
                    (126, 90),
                    (192, 108),
                ],
                (pool, &g, &x.values)
            );
            compare(c, &format!("{pool:?} {g:?}"), &got, &mut errors);
            checked += 1;
        }
        assert_eq!(checked, 12, "{op}");
        std::println!("{op}: {checked} cases, {} values, max abs error {:e}", errors.values, errors.abs);
    }
}

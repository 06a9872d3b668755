//! Property tests of the safetensors loader: truncated, mutated, random and hand-edited files never panic, the
//! loader agrees with a reference model built on the safetensors parser itself, and a failed load leaves the
//! network exactly as it was.
//!
//! The reference model (`model`) parses the bytes with `safetensors` and decides from the tensors alone what a
//! load must do: `Err` when the file does not parse, when a tensor of the network has another shape or dtype,
//! when the batch-norm counter is not an `I64` scalar, and (strictly) when a tensor is missing or extra or holds
//! a NaN or infinity; otherwise `Ok` with the missing and unexpected names and the non-finite counts. Every case checks the loader against it under both policies, then checks the loaded values bit for
//! bit (NaNs only as NaNs) and runs the network.

use nn_core::Parameters;
use nn_core::io::{LoadReport, Policy, WeightsError, from_bytes, to_bytes};
use nn_core::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::Config;
use safetensors::SafeTensorError;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::sync::LazyLock;

network! {
    /// `fc1 = Linear(5, 8)`, `bn1 = BatchNorm1d(8)`, `fc2 = Linear(8, 4)`, `fc3 = Linear(4, 3, bias=False)`.
    struct Net<f32> { input: 5, Dense(8), BatchNorm, Relu, Dense(4), Tanh, Dense(3, bias = false) }
}

/// A valid file of the network (its tensors sorted by name, as safetensors writes them).
static VALID: LazyLock<Vec<u8>> = LazyLock::new(|| {
    // The saved file without PyTorch's `num_batches_tracked` counter (which loads ignore as `bn1`'s `I64`
    // scalar): every remaining byte of the header then matters to the model below.
    let full = to_bytes(&*Net::boxed_init(&mut seeded_rng(1))).unwrap();
    let file = SafeTensors::deserialize(&full).unwrap();
    let kept: Vec<_> = file.tensors().into_iter().filter(|(name, _)| !name.ends_with("num_batches_tracked")).collect();
    safetensors::serialize(kept, None).unwrap()
});

/// The network's tensors as (name, shape), sorted by name.
static SPEC: LazyLock<Vec<(String, Vec<usize>)>> = LazyLock::new(|| {
    let file = SafeTensors::deserialize(&VALID).unwrap();
    let mut spec: Vec<_> = file.tensors().into_iter().map(|(name, view)| (name, view.shape().to_vec())).collect();
    spec.sort();
    spec
});

/// The length of a file's JSON header, as its first 8 bytes say.
fn header_len(bytes: &[u8]) -> usize {
    u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
}

/// A file with `header` as its JSON header (padded with spaces to a multiple of 8 bytes) and `data` after it.
fn assemble(header: &str, data: &[u8]) -> Vec<u8> {
    let mut header = header.as_bytes().to_vec();
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(&header);
    out.extend_from_slice(data);
    out
}

fn cases(cases: u32) -> Config {
    // No regression files: a failure prints its minimal input, which belongs in a named test.
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// What a successful load reports: missing and unexpected tensors (sorted), and the tensors holding non-finite
/// values with their counts (sorted by name).
type Outcome = (Vec<String>, Vec<String>, Vec<(String, usize)>);

/// What loading a file (`parsed` by safetensors) under `policy` must do: `Ok` with what the report says, or
/// `Err(why)`. Under `Strict`, a NaN or infinite value in a tensor the network loads is an error; under
/// `Lenient` it is counted. A `num_batches_tracked` counter is ignored only as `bn1`'s (the network's one batch
/// norm), and only as an `I64` scalar, else it is an error; any other counter is a tensor the network lacks.
fn model(parsed: &Result<SafeTensors<'_>, SafeTensorError>, policy: Policy) -> Result<Outcome, String> {
    let file = parsed.as_ref().map_err(|e| format!("does not parse: {e}"))?;
    let (mut missing, mut non_finite) = (Vec::new(), Vec::new());
    for (name, shape) in SPEC.iter() {
        match file.tensor(name) {
            Ok(view) if view.shape() != shape.as_slice() => return Err(format!("{name} has shape {:?}", view.shape())),
            Ok(view) if view.dtype() != Dtype::F32 => return Err(format!("{name} is {}", view.dtype())),
            Ok(view) => {
                let bad = view
                    .data()
                    .chunks_exact(4)
                    .filter(|b| !f32::from_le_bytes((*b).try_into().unwrap()).is_finite())
                    .count();
                match (bad, policy) {
                    (0, _) => {}
                    (_, Policy::Strict) => return Err(format!("{name} holds {bad} non-finite values")),
                    (_, Policy::Lenient) => non_finite.push((name.clone(), bad)),
                }
            }
            Err(_) if policy == Policy::Strict => return Err(format!("{name} is missing")),
            Err(_) => missing.push(name.clone()),
        }
    }
    let mut unexpected = Vec::new();
    for name in file.names() {
        if SPEC.iter().any(|(n, _)| n == name) {
            continue;
        }
        if name == "bn1.num_batches_tracked" {
            let view = file.tensor(name).map_err(|e| e.to_string())?;
            if view.dtype() != Dtype::I64 || !view.shape().is_empty() {
                return Err(format!("{name} is {} {:?}", view.dtype(), view.shape()));
            }
            continue;
        }
        if policy == Policy::Strict {
            return Err(format!("{name} is unexpected"));
        }
        unexpected.push(name.to_string());
    }
    unexpected.sort();
    Ok((missing, unexpected, non_finite))
}

/// Whether two little-endian `f32` buffers hold the same numbers: equal bits, or NaN in both (a NaN's payload
/// may change in the loader's `f32 -> f64 -> f32` round trip).
fn same_f32s(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && a.chunks_exact(4).zip(b.chunks_exact(4)).all(|(x, y)| {
            let (x, y) = (f32::from_le_bytes(x.try_into().unwrap()), f32::from_le_bytes(y.try_into().unwrap()));
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        })
}

/// The network every load starts from (other weights than `VALID`'s), the bits of all its numbers, and its
/// tensors in the file layout by name.
struct Start {
    net: Box<Net>,
    bits: Vec<u32>,
    file: Vec<u8>,
}

static START: LazyLock<Start> = LazyLock::new(|| {
    let net = Net::boxed_init(&mut seeded_rng(2));
    Start { bits: bits(&net), file: to_bytes(&*net).unwrap(), net }
});

/// The bits of every number of `net`, parameters then state.
fn bits(net: &Net) -> Vec<u32> {
    let tensors = (0..Net::TENSORS).filter_map(|i| net.tensor(i));
    let buffers = (0..Net::BUFFERS).filter_map(|i| net.buffer(i));
    tensors.chain(buffers).flat_map(|t| t.data.iter().map(|v| v.to_bits())).collect()
}

/// Loads `bytes` into a fresh network under both policies and checks each result against [`model`]: a failed
/// load leaves the network bit-for-bit as it was; a successful one reports what the model says, holds the
/// file's values for every tensor it loaded and the old values for the others, and the network still runs.
fn check(bytes: &[u8]) -> [Result<LoadReport, WeightsError>; 2] {
    let parsed = SafeTensors::deserialize(bytes);
    [Policy::Strict, Policy::Lenient].map(|policy| {
        let mut net = Net::boxed_zeroed();
        net.copy_from(&START.net);
        let result = from_bytes(&mut *net, bytes, policy);
        match (&result, model(&parsed, policy)) {
            (Err(_), Err(_)) => assert!(bits(&net) == START.bits, "{policy:?}: a failed load changed the network"),
            (Ok(report), Ok((missing, unexpected, non_finite))) => {
                let mut reported = report.missing.clone();
                reported.sort();
                assert_eq!(reported, missing, "{policy:?}: missing tensors");
                assert_eq!(report.unexpected, unexpected, "{policy:?}: unexpected tensors");
                let mut counted = report.non_finite.clone();
                counted.sort();
                assert_eq!(counted, non_finite, "{policy:?}: non-finite values");
                assert_eq!(report.loaded, SPEC.len() - missing.len(), "{policy:?}: tensors loaded");
                let after = to_bytes(&*net).unwrap();
                let (file, old, new) = (
                    parsed.as_ref().unwrap(),
                    SafeTensors::deserialize(&START.file).unwrap(),
                    SafeTensors::deserialize(&after).unwrap(),
                );
                for (name, _) in SPEC.iter() {
                    let want = if missing.contains(name) { &old } else { file };
                    assert!(
                        same_f32s(new.tensor(name).unwrap().data(), want.tensor(name).unwrap().data()),
                        "{policy:?}: {name} does not hold the values it should"
                    );
                }
                // Whatever numbers were loaded (NaN, infinities, subnormals), running the network must not panic.
                std::hint::black_box(net.forward(&Vector::from([0.3, -1.2, 0.8, 0.05, 2.0])));
            }
            (result, expected) => panic!("{policy:?}: the loader returned {result:?}, the model expects {expected:?}"),
        }
        result
    })
}

#[test]
fn the_valid_file_loads_under_both_policies() {
    let [strict, lenient] = check(&VALID);
    assert_eq!(strict.unwrap().loaded, SPEC.len());
    assert_eq!(lenient.unwrap(), LoadReport { loaded: SPEC.len(), ..LoadReport::default() });
}

#[test]
fn truncation_at_every_length_is_an_error() {
    for cut in 0..VALID.len() {
        for result in check(&VALID[..cut]) {
            let err = result.expect_err("a truncated file loaded");
            assert!(matches!(err, WeightsError::Format(_) | WeightsError::Truncated { .. }), "cut {cut}: {err}");
        }
    }
}

/// A byte to write over another: anything, or (more often than chance) a byte that keeps JSON well formed.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![any::<u8>(), prop::sample::select(b"0123456789 \t\n{}[],:\"._FIUabcdefghijklmnopqrstuvwxyz".to_vec())]
}

fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

proptest! {
    #![proptest_config(cases(8192))]

    /// 1 to 8 bytes overwritten anywhere. Changing only the data section always loads (any 4 bytes are an
    /// `f32`) with the new numbers, under `Strict` only if they are finite; changing the length prefix or the JSON header (other than its padding
    /// spaces for other whitespace) fails under `Strict` unless the header still lists the same tensors,
    /// names, dtypes and shapes (two names swapped, say); the model decides every case exactly.
    #[test]
    fn mutated_bytes_never_panic(mutations in prop::collection::vec((0..VALID.len(), byte()), 1..=8)) {
        let mut bytes = VALID.clone();
        for &(at, value) in &mutations {
            bytes[at] = value;
        }
        let header_end = 8 + header_len(&VALID);
        let header_changed = (0..header_end)
            .any(|i| bytes[i] != VALID[i] && !(i >= 8 && is_json_space(bytes[i]) && is_json_space(VALID[i])));
        let [strict, lenient] = check(&bytes);
        let data_finite = bytes[header_end..].chunks_exact(4).all(|b| f32::from_le_bytes(b.try_into().unwrap()).is_finite());
        if !header_changed {
            // `Strict` refuses the numbers a change made NaN or infinite.
            prop_assert!(strict.is_ok() == data_finite && lenient.is_ok(), "only data changed: {strict:?} {lenient:?}");
        } else if strict.is_ok() {
            let listed = |b: &[u8]| {
                let file = SafeTensors::deserialize(b).unwrap();
                let mut list: Vec<_> =
                    file.iter().map(|(n, v)| (n.to_string(), v.dtype(), v.shape().to_vec())).collect();
                list.sort();
                list
            };
            prop_assert_eq!(listed(&bytes), listed(&VALID), "a changed header loaded strictly");
        }
    }
}

proptest! {
    #![proptest_config(cases(4096))]

    /// Random bytes (0 to 4095 of them) are never a weights file. (Drawn as words and a tail: a strategy per
    /// byte would take most of the run.)
    #[test]
    fn random_bytes_are_an_error(
        words in prop::collection::vec(any::<u64>(), 0..512),
        tail in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        bytes.extend_from_slice(&tail);
        let [strict, lenient] = check(&bytes);
        prop_assert!(strict.is_err() && lenient.is_err());
    }

    /// A consistent length prefix before random JSON-like text: parsed, rejected, never a panic (`{}` is a valid
    /// empty file, which only `Lenient` accepts, with everything missing).
    #[test]
    fn random_headers_are_an_error_strictly(
        header in r#"[{}\[\]":,0-9a-zF_. ]{0,64}"#,
        data in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let [strict, _] = check(&assemble(&header, &data));
        prop_assert!(strict.is_err());
    }
}

proptest! {
    #![proptest_config(cases(1024))]

    /// Bytes after the last tensor's data are an error (the header says where the file ends).
    #[test]
    fn trailing_bytes_are_an_error(extra in prop::collection::vec(any::<u8>(), 1..64)) {
        let mut bytes = VALID.clone();
        bytes.extend_from_slice(&extra);
        let [strict, lenient] = check(&bytes);
        prop_assert!(strict.is_err() && lenient.is_err());
    }
}

/// One edit of the JSON header, applied to the tensor at an index of the header's order.
#[derive(Clone, Debug)]
enum Edit {
    /// New text for the numbers in `"shape":[...]`.
    Shape(Vec<String>),
    /// The same number of elements in another shape: flattened, reversed, or with a leading or trailing 1.
    Reshape(u8),
    /// New text for the dtype string.
    Dtype(String),
    /// New text for the two numbers in `"data_offsets":[...]`.
    Offsets(String, String),
    /// A new name.
    Name(String),
}

/// A number as JSON text: small, any `u64`, or text that is no `usize` at all.
fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0u64..=64).prop_map(|v| v.to_string()),
        2 => (0u64..=1024).prop_map(|v| v.to_string()),
        1 => any::<u64>().prop_map(|v| v.to_string()),
        1 => prop::sample::select(vec!["18446744073709551616", "-1", "1.5", "1e3", "\"8\"", "null", "08", ""])
            .prop_map(String::from),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    let dtypes = vec![
        "F64", "F16", "BF16", "I32", "U32", "I64", "U64", "I16", "U16", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2", "F4",
        "F6_E2M3", "E8M0", "f32", "F32 ", " F32", "F3", "F320", "Q32", "",
    ];
    prop_oneof![
        prop::collection::vec(number(), 0..=3).prop_map(Edit::Shape),
        (0u8..4).prop_map(Edit::Reshape),
        prop::sample::select(dtypes).prop_map(|d| Edit::Dtype(d.to_string())),
        (number(), number()).prop_map(|(a, b)| Edit::Offsets(a, b)),
        r"[a-z0-9_.]{0,12}|(bn1|fc[1-3])\.(weight|bias|running_mean|running_var|num_batches_tracked)"
            .prop_map(Edit::Name),
    ]
}

/// The byte range of the text between `open` and the next `close` after the `index`-th `open` in `header`.
fn field(header: &str, open: &str, close: char, index: usize) -> std::ops::Range<usize> {
    let start = header.match_indices(open).nth(index).unwrap().0 + open.len();
    start..start + header[start..].find(close).unwrap()
}

/// The header with `edit` applied to its `index`-th tensor, and whether the edit changed its meaning.
fn apply(header: &str, index: usize, edit: &Edit) -> (String, bool) {
    let (range, text) = match edit {
        Edit::Shape(dims) => (field(header, "\"shape\":[", ']', index), dims.join(",")),
        Edit::Reshape(kind) => {
            let range = field(header, "\"shape\":[", ']', index);
            let old: Vec<&str> = header[range.clone()].split(',').filter(|d| !d.is_empty()).collect();
            let count: usize = old.iter().map(|d| d.parse::<usize>().unwrap()).product();
            let text = match kind {
                0 => count.to_string(),
                1 => old.iter().rev().copied().collect::<Vec<_>>().join(","),
                2 => format!("1,{}", old.join(",")),
                _ => format!("{},1", old.join(",")),
            };
            (range, text)
        }
        Edit::Dtype(dtype) => (field(header, "\"dtype\":\"", '"', index), dtype.clone()),
        Edit::Offsets(a, b) => (field(header, "\"data_offsets\":[", ']', index), format!("{a},{b}")),
        Edit::Name(name) => {
            // Keys are the strings just before `":{"dtype"`.
            let end = header.match_indices("\":{\"dtype\"").nth(index).unwrap().0;
            (header[..end].rfind('"').unwrap() + 1..end, name.clone())
        }
    };
    let changed = header[range.clone()] != text;
    let mut out = header.to_string();
    out.replace_range(range, &text);
    (out, changed)
}

proptest! {
    #![proptest_config(cases(2048))]

    /// Edits of a shape, a dtype, a pair of offsets or a name in the JSON header, with the length prefix kept
    /// consistent. A changed shape, dtype or offsets fails under both policies (the offsets of the other
    /// tensors pin each tensor's place, so no other pair fits); a changed name fails under `Strict`.
    #[test]
    fn header_edits_are_errors(index in 0..9usize, edit in edit()) {
        let n = header_len(&VALID);
        let header = std::str::from_utf8(&VALID[8..8 + n]).unwrap().trim_end();
        let (edited, changed) = apply(header, index, &edit);
        let [strict, lenient] = check(&assemble(&edited, &VALID[8 + n..]));
        if changed {
            prop_assert!(strict.is_err(), "{edited}");
            if !matches!(edit, Edit::Name(_)) {
                prop_assert!(lenient.is_err(), "{edited}");
            }
        } else {
            prop_assert!(strict.is_ok() && lenient.is_ok(), "{edited}");
        }
    }
}

/// What a generated file holds for one tensor of the network.
#[derive(Clone, Copy, Debug)]
enum Entry {
    Absent,
    Right,
    /// One more element in the first dimension.
    WrongShape,
    /// Another dtype of the same or another size.
    WrongDtype(Dtype),
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        1 => Just(Entry::Absent),
        6 => Just(Entry::Right),
        1 => Just(Entry::WrongShape),
        1 => prop::sample::select(vec![Dtype::F64, Dtype::F16, Dtype::I32, Dtype::U8]).prop_map(Entry::WrongDtype),
    ]
}

/// Pseudo-random bytes (splitmix64), cheaper than a byte strategy per tensor.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

proptest! {
    #![proptest_config(cases(2048))]

    /// Well-formed files with some of the network's tensors (right, misshapen or of another dtype), extra
    /// tensors and PyTorch's `num_batches_tracked` counter: `Strict` loads exactly the complete, right, finite
    /// files, `Lenient` every file whose shared tensors are right, reporting the missing and unexpected names and
    /// the non-finite values.
    #[test]
    fn generated_files_follow_the_model(
        entries in prop::collection::vec(entry(), 9),
        extras in prop::collection::vec((r"x[a-z]{0,5}(\.[a-z_]{1,12})?", 0usize..6), 0..3),
        counter in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut tensors: Vec<(String, Dtype, Vec<usize>)> = Vec::new();
        for ((name, shape), entry) in SPEC.iter().zip(&entries) {
            let mut shape = shape.clone();
            let dtype = match entry {
                Entry::Absent => continue,
                Entry::Right => Dtype::F32,
                Entry::WrongShape => {
                    shape[0] += 1;
                    Dtype::F32
                }
                Entry::WrongDtype(dtype) => *dtype,
            };
            tensors.push((name.clone(), dtype, shape));
        }
        for (name, len) in &extras {
            if !tensors.iter().any(|(n, _, _)| n == name) {
                tensors.push((name.clone(), Dtype::F32, vec![*len]));
            }
        }
        if counter {
            tensors.push(("bn1.num_batches_tracked".to_string(), Dtype::I64, vec![]));
        }
        let data: Vec<Vec<u8>> = tensors
            .iter()
            .enumerate()
            .map(|(i, (_, dtype, shape))| noise(seed ^ i as u64, shape.iter().product::<usize>() * dtype.bitsize() / 8))
            .collect();
        let views: Vec<(&str, TensorView<'_>)> = tensors
            .iter()
            .zip(&data)
            .map(|((name, dtype, shape), data)| {
                (name.as_str(), TensorView::new(*dtype, shape.clone(), data).unwrap())
            })
            .collect();
        let bytes = safetensors::serialize(views, None).unwrap();

        let [strict, lenient] = check(&bytes);
        let all_right = entries.iter().all(|e| matches!(e, Entry::Right));
        let shared_right = entries.iter().all(|e| matches!(e, Entry::Right | Entry::Absent));
        // Random bytes include NaN and infinite patterns, which only `Lenient` loads.
        let finite = tensors.iter().zip(&data).filter(|((n, _, _), _)| SPEC.iter().any(|(s, _)| s == n)).all(
            |(_, d)| d.chunks_exact(4).all(|b| f32::from_le_bytes(b.try_into().unwrap()).is_finite()),
        );
        prop_assert_eq!(strict.is_ok(), all_right && extras.is_empty() && finite);
        prop_assert_eq!(lenient.is_ok(), shared_right);
    }
}

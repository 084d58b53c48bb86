//! The fuzz entry points, shared by the cargo-fuzz targets (`fuzz/fuzz_targets/`) and
//! by `tests/fuzz_replay.rs`, which replays the committed corpus and the saved crash
//! regressions through the same functions on stable Rust, without cargo-fuzz.
//!
//! - [`npy`]: `xent::npy::from_bytes` on the raw bytes; what it accepts must write
//!   back and read again bit-exactly.
//! - [`eval`]: the bytes are decoded (see [`decode`]) into an op of the table, a few
//!   parameters (right or wrong names and types), 1–4 arrays (any dtype, shapes
//!   that fit the op or not, 0-size and huge-but-empty dimensions, values from
//!   ordinary to NaN/±inf/subnormal/huge) and maybe a gradient name, then run through
//!   `xent::registry::eval`. Nothing may panic; an error is one line; a gradient has
//!   its input's shape.
#![allow(dead_code)] // each includer uses part of it

use half::f16;
use ndarray::{ArrayD, IxDyn};
use serde_json::{json, Value};
use xent::registry::{self, InputKind, ParamKind, OPS};
use xent::{DType, DynArray};

/// Run the `.npy` reader on `data`.
pub fn npy(data: &[u8]) {
    if let Ok(a) = xent::npy::from_bytes(data, "fuzz.npy") {
        let bytes = xent::npy::to_bytes(&a);
        let b = xent::npy::from_bytes(&bytes, "again.npy").expect("xent reads what it writes");
        assert_eq!(b.shape(), a.shape());
        assert_eq!(b.dtype(), a.dtype());
        assert!(xent::npy::to_bytes(&b) == bytes, "the round trip is bit-exact");
    }
}

/// One decoded call.
pub struct Call {
    pub op: &'static str,
    pub inputs: Vec<(String, DynArray)>,
    pub params: Vec<(String, Value)>,
    pub grad: Option<String>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.op)?;
        for (n, a) in &self.inputs {
            writeln!(f, "  {n}: {} {:?} {:?}", a.dtype(), a.shape(), a.to_f64().iter().take(32).collect::<Vec<_>>())?;
        }
        write!(f, "  params {:?} grad {:?}", self.params, self.grad)
    }
}

/// Decode `data` and run it through the op table.
pub fn eval(data: &[u8]) {
    let call = decode(data);
    if too_big(&call) {
        return;
    }
    let grad_shape = call.grad.as_ref().and_then(|g| call.inputs.iter().find(|(n, _)| n == g)).map(|(_, a)| a.shape().to_vec());
    match registry::eval(call.op, call.inputs, call.params, call.grad.as_deref()) {
        Ok(out) => {
            if let Some(s) = grad_shape {
                assert_eq!(out.shape(), s.as_slice(), "a gradient has the shape of its input");
            }
        }
        Err(e) => {
            let m = e.to_string();
            assert!(!m.is_empty() && !m.contains('\n'), "one-line error: {m:?}");
        }
    }
}

/// One-hot outputs are `depth` times their input: a valid but absurd depth is
/// refused by xent with an allocation error (tests/hostile.rs checks that), but
/// libFuzzer's malloc limit would report the attempt itself, so such calls are
/// skipped here.
fn too_big(c: &Call) -> bool {
    let n = c.inputs.first().map_or(0, |(_, a)| a.len()).max(1) as f64;
    let p = |k: &str| c.params.iter().rev().find(|(n, _)| n == k).and_then(|(_, v)| v.as_f64());
    match c.op {
        "tf.one_hot" => p("depth").is_some_and(|d| d * n > 1e6),
        "torch.nn.functional.one_hot" => {
            let nc = p("num_classes").unwrap_or(-1.0);
            let max = c.inputs.first().map_or(0.0, |(_, a)| a.to_f64().iter().fold(0.0f64, |m, &v| m.max(v)));
            (if nc == -1.0 { max + 1.0 } else { nc }) * n > 1e6
        }
        _ => false,
    }
}

/// A cursor over the fuzz bytes; past the end it reads zeros, so decoding always ends.
struct Bytes<'a> {
    d: &'a [u8],
    pos: usize,
}

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        let b = self.d.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.u8() as usize % v.len()]
    }
    fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |acc, _| acc << 8 | u64::from(self.u8()))
    }
}

const SPECIAL: [f64; 24] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    1e-7,
    1.0 - 1e-7,
    5e-324,
    -5e-324,
    1e-45,
    1e-310,
    6e-8,
    65504.0,
    65520.0,
    3.4e38,
    -3.4e38,
    1e300,
    -1e300,
    f64::MAX,
    f64::MIN,
    100.0,
];
const BOGUS_PARAMS: [&str; 6] = ["axsi", "bogus", "reduction", "dim", "axis", "from_logits"];
const STRINGS: [&str; 12] =
    ["none", "mean", "sum", "sum_over_batch_size", "mean_with_sample_weight", "float32", "float64", "int32", "int64", "", "abc", "null"];
const ALL: [DType; 7] = [DType::F16, DType::F32, DType::F64, DType::U8, DType::I32, DType::I64, DType::Bool];

fn value(b: &mut Bytes<'_>, kind: ParamKind) -> Value {
    match b.u8() % 10 {
        // The kind's own sort of value, most of the time.
        0..=3 => match kind {
            ParamKind::Bool => json!(b.u8() & 1 == 1),
            ParamKind::Float | ParamKind::OptFloat => json!(b.pick(&[0.0, 0.1, 0.25, 0.5, 1.0, 2.0, -0.5, 1.5, 1e-7, 1e30])),
            ParamKind::Int | ParamKind::OptInt => json!(i64::from(b.u8() as i8 % 8)),
            ParamKind::OptList => json!((0..b.u8() % 5).map(|_| i64::from(b.u8() as i8 % 4)).collect::<Vec<_>>()),
            ParamKind::Choice(c) => {
                let s = b.pick(c);
                if s == "null" {
                    Value::Null
                } else {
                    json!(s)
                }
            }
        },
        4 => Value::Null,
        5 => json!(b.u8() & 1 == 1),
        6 => json!(i64::from(b.u8() as i8)),
        7 => {
            let v = f64::from_bits(b.u64());
            if v.is_finite() {
                json!(v)
            } else {
                Value::Null
            }
        }
        8 => json!(b.u64() as i64),
        _ => json!(b.pick(&STRINGS)),
    }
}

fn shape(b: &mut Bytes<'_>) -> Vec<usize> {
    let rank = b.u8() % 5;
    let mut s: Vec<usize> = (0..rank)
        .map(|_| match b.u8() % 10 {
            d @ 0..=5 => usize::from(d),
            6 | 7 => 2,
            8 => 3,
            // Only kept beside a 0 (an empty array with many empty rows), see `fix`.
            // Not 2^40: the allocation xent then refuses (tests/hostile.rs) would
            // trip libFuzzer's malloc limit by being attempted.
            _ => 1 << 16,
        })
        .collect();
    fix(&mut s);
    s
}

/// A huge length only beside a 0 (an empty array, as a short file can declare), and
/// at most one: the array stays small and the product of the non-zero lengths
/// addressable.
fn fix(s: &mut [usize]) {
    let keep = usize::from(s.contains(&0));
    s.iter_mut().filter(|d| **d > 5).skip(keep).for_each(|d| *d = 5);
}

fn drop_axis(s: &[usize], a: usize) -> Vec<usize> {
    let mut v = s.to_vec();
    if a < v.len() {
        v.remove(a);
    }
    v
}

fn array(b: &mut Bytes<'_>, dtype: DType, shape: &[usize]) -> DynArray {
    let n = if shape.contains(&0) { 0 } else { shape.iter().product() };
    let raw = b.u8().is_multiple_of(8); // values from raw bit patterns
    let sh = IxDyn(shape);
    let f = |b: &mut Bytes<'_>| -> f64 {
        if raw {
            return f64::from_bits(b.u64());
        }
        let x = b.u8();
        if x < 200 {
            (f64::from(x) - 100.0) / 25.0
        } else {
            SPECIAL[usize::from(x - 200) % SPECIAL.len()]
        }
    };
    let int = |b: &mut Bytes<'_>| -> i64 {
        if raw {
            b.u64() as i64
        } else {
            i64::from(b.u8() as i8)
        }
    };
    match dtype {
        DType::F16 => DynArray::F16(ArrayD::from_shape_vec(sh, (0..n).map(|_| f16::from_f64(f(b))).collect()).unwrap()),
        DType::F32 => DynArray::F32(ArrayD::from_shape_vec(sh, (0..n).map(|_| f(b) as f32).collect()).unwrap()),
        DType::F64 => DynArray::F64(ArrayD::from_shape_vec(sh, (0..n).map(|_| f(b)).collect()).unwrap()),
        DType::U8 => DynArray::U8(ArrayD::from_shape_vec(sh, (0..n).map(|_| b.u8()).collect()).unwrap()),
        DType::I32 => DynArray::I32(ArrayD::from_shape_vec(sh, (0..n).map(|_| int(b) as i32).collect()).unwrap()),
        DType::I64 => DynArray::I64(ArrayD::from_shape_vec(sh, (0..n).map(|_| int(b)).collect()).unwrap()),
        DType::Bool => DynArray::Bool(ArrayD::from_shape_vec(sh, (0..n).map(|_| b.u8() & 1 == 1).collect()).unwrap()),
    }
}

/// Decode fuzz bytes into a call of the op table. Layout (every byte optional):
/// op index, flags (bit 0: a gradient; bits 1–4: the optional inputs), the number of
/// parameters and for each its name and value, the base shape, then for each input
/// its shape mode, dtype and elements, and last the gradient's name.
pub fn decode(data: &[u8]) -> Call {
    let mut b = Bytes { d: data, pos: 0 };
    let op = &OPS[usize::from(b.u8()) % OPS.len()];
    let flags = b.u8();
    let mut params = Vec::new();
    for _ in 0..b.u8() % 5 {
        let i = usize::from(b.u8()) % (op.params.len() + 1);
        match op.params.get(i) {
            Some(p) => params.push((p.name.to_string(), value(&mut b, p.kind))),
            None => {
                let name = b.pick(&BOGUS_PARAMS).to_string();
                params.push((name, value(&mut b, ParamKind::Int)));
            }
        }
    }
    let base = shape(&mut b);
    let mut inputs = Vec::new();
    for (k, spec) in op.inputs.iter().enumerate() {
        if spec.optional && flags & (2 << k.min(3)) == 0 {
            continue;
        }
        let last = base.len().saturating_sub(1);
        let s = match b.u8() % 8 {
            0..=2 => base.clone(),
            3 => drop_axis(&base, if base.len() > 1 { 1 } else { 0 }),
            4 => drop_axis(&base, last),
            5 => drop_axis(&base, 0),
            6 => base.get(if base.len() > 1 { 1 } else { 0 }).map(|&c| vec![c]).unwrap_or_default(),
            _ => shape(&mut b),
        };
        let sel = b.u8();
        let dtype = if sel % 16 >= 13 {
            ALL[usize::from(sel) % ALL.len()]
        } else {
            match spec.kind {
                InputKind::Float => [DType::F32, DType::F64, DType::F16][usize::from(sel) % 3],
                InputKind::Labels(ok) => ok[usize::from(sel) % ok.len()],
                InputKind::Any => [DType::I64, DType::F32, DType::I32, DType::F64, DType::U8][usize::from(sel) % 5],
            }
        };
        let mut s = s;
        fix(&mut s);
        let a = array(&mut b, dtype, &s);
        inputs.push((spec.name.to_string(), a));
    }
    let grad = if flags & 1 == 1 {
        let names: Vec<&str> = op.grad_wrt.iter().copied().chain(op.inputs.iter().map(|i| i.name)).chain(["nope"]).collect();
        Some(b.pick(&names).to_string())
    } else {
        None
    };
    Call { op: op.name, inputs, params, grad }
}

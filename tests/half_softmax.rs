//! Softmax and log-softmax of `f16`/`bf16` data (`kernels::checked::{softmax_half,
//! log_softmax_half}`, `torch::{softmax_half, log_softmax_half}`):
//!
//! - on every ISA of this CPU (forced with `with_isa`), against the scalar `f32`
//!   kernels on the widened data rounded once to the half type: within 1 ulp of the
//!   half type everywhere (NaN where the reference is NaN), and equal in all but a
//!   small fraction of elements (the `f32` values of two ISAs differ by an `f32` ulp
//!   or two, which moves the rounding only near a rounding boundary of the half type);
//! - against PyTorch 2.15 on CPU (`tests/data/torch_half_softmax.json`, generated
//!   once by `tests/data/gen_torch_half_softmax.py`): softmax equal to PyTorch's bits
//!   (PyTorch computes a half softmax in `f32` and rounds once, as xent); log-softmax
//!   equal to PyTorch's or closer than PyTorch's to the exact (`f64`) log-softmax:
//!   PyTorch's half log-softmax is not the `f32` one rounded once (on 1–8 % of elements
//!   it is an ulp or more further from the exact value), xent's is.

use half::{bf16, f16};
use ndarray::{ArrayD, IxDyn};
use xent::kernels::{checked, with_isa, Geom, Half, Isa, Par};

trait Bits: Half {
    fn bits(self) -> u16;
    fn from_bits(b: u16) -> Self;
    fn is_nan(self) -> bool {
        self.to_f32().is_nan()
    }
}
impl Bits for f16 {
    fn bits(self) -> u16 {
        self.to_bits()
    }
    fn from_bits(b: u16) -> Self {
        f16::from_bits(b)
    }
}
impl Bits for bf16 {
    fn bits(self) -> u16 {
        self.to_bits()
    }
    fn from_bits(b: u16) -> Self {
        bf16::from_bits(b)
    }
}

/// Distance in ulps of the half type; 0 for two NaNs, `u32::MAX` for NaN against a number.
fn ulps<H: Bits>(a: H, b: H) -> u32 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => 0,
        (false, false) => {
            let o = |h: H| {
                let bits = h.bits();
                let mag = i32::from(bits & 0x7fff);
                if bits & 0x8000 != 0 {
                    -mag
                } else {
                    mag
                }
            };
            (o(a) - o(b)).unsigned_abs()
        }
        _ => u32::MAX,
    }
}

/// Deterministic data with the awkward cases: −inf entries, a row of only −inf, a
/// row holding NaN, one holding +inf, the largest finite values, tiny values.
fn data<H: Bits>(g: Geom, scale: f64, seed: u64) -> Vec<H> {
    let mut r = xent::rng::SplitMix64::new(seed);
    let mut x: Vec<H> = (0..g.len()).map(|_| H::from_f32((r.normal() * scale) as f32)).collect();
    let c = g.classes;
    if g.inner == 1 && g.outer >= 6 && c >= 2 {
        x[0] = H::from_f32(f32::NEG_INFINITY);
        x[c..2 * c].fill(H::from_f32(f32::NEG_INFINITY));
        x[2 * c + c / 2] = H::from_f32(f32::NAN);
        x[3 * c + 1] = H::from_f32(f32::INFINITY);
        x[4 * c] = H::from_f32(if std::any::type_name::<H>().contains("bf16") { 3.0e38 } else { 65504.0 });
        x[5 * c..6 * c].iter_mut().for_each(|v| *v = H::from_f32(v.to_f32() * 1e-3));
    }
    x
}

/// The scalar `f32` kernels on the widened data, rounded once to `H`.
fn reference<H: Bits>(x: &[H], g: Geom, log: bool) -> Vec<H> {
    let w: Vec<f32> = x.iter().map(|v| v.to_f32()).collect();
    let mut y = vec![0.0f32; w.len()];
    with_isa(Isa::Scalar, || if log { checked::log_softmax(&w, g, &mut y, Par::Seq) } else { checked::softmax(&w, g, &mut y, Par::Seq) })
        .unwrap();
    y.into_iter().map(H::from_f32).collect()
}

fn per_isa<H: Bits>(name: &str) {
    let geoms = [
        Geom::rows(8, 3),
        Geom::rows(8, 17),
        Geom::rows(7, 64),
        Geom::rows(6, 255),
        Geom::rows(9, 256),
        Geom::rows(6, 1000),
        Geom::rows(6, 5003),
        Geom { outer: 3, classes: 40, inner: 5 },
        Geom { outer: 2, classes: 300, inner: 3 },
    ];
    for isa in Isa::available() {
        for log in [false, true] {
            let (mut n, mut exact, mut worst) = (0usize, 0usize, 0u32);
            for (i, &g) in geoms.iter().enumerate() {
                for scale in [1.0, 8.0] {
                    let x = data::<H>(g, scale, 17 + i as u64);
                    let want = reference(&x, g, log);
                    for par in [Par::Seq, Par::Rayon(2)] {
                        let mut got = vec![H::default(); x.len()];
                        with_isa(isa, || {
                            if log {
                                checked::log_softmax_half(&x, g, &mut got, par)
                            } else {
                                checked::softmax_half(&x, g, &mut got, par)
                            }
                        })
                        .unwrap();
                        for (k, (&a, &b)) in got.iter().zip(&want).enumerate() {
                            let d = ulps(a, b);
                            assert!(d <= 1, "{name} {} log={log} {g:?} scale {scale} [{k}]: {a:?} vs reference {b:?}", isa.name());
                            n += 1;
                            exact += usize::from(d == 0 && a.bits() == b.bits() || (a.is_nan() && b.is_nan()));
                            worst = worst.max(d);
                        }
                    }
                }
            }
            let frac = exact as f64 / n as f64;
            println!(
                "{name} {:6} {}: {exact}/{n} equal to the rounded scalar f32 reference ({:.4} %), max {worst} ulp",
                isa.name(),
                if log { "log_softmax" } else { "softmax" },
                100.0 * frac
            );
            assert!(frac > 0.99, "{name} {} log={log}: only {exact} of {n} equal", isa.name());
        }
    }
}

#[test]
fn f16_every_isa_within_one_ulp_of_the_rounded_f32_reference() {
    per_isa::<f16>("f16");
}

#[test]
fn bf16_every_isa_within_one_ulp_of_the_rounded_f32_reference() {
    per_isa::<bf16>("bf16");
}

fn against_torch<H: Bits>(key: &str) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/torch_half_softmax.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let halves =
        |a: &serde_json::Value| -> Vec<H> { a.as_array().unwrap().iter().map(|b| H::from_bits(b.as_u64().unwrap() as u16)).collect() };
    let (mut n, mut lsm_equal) = (0usize, 0usize);
    for case in v[key].as_array().unwrap() {
        let shape: Vec<usize> = case["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
        let x = halves(&case["x"]);
        let (sm, lsm) = (halves(&case["softmax"]), halves(&case["log_softmax"]));
        let xa = ArrayD::from_shape_vec(IxDyn(&shape), x.clone()).unwrap();
        for isa in Isa::available() {
            let (y, ly) = with_isa(isa, || (xent::torch::softmax_half(&xa, -1).unwrap(), xent::torch::log_softmax_half(&xa, -1).unwrap()));
            for (k, (&a, &b)) in y.iter().zip(&sm).enumerate() {
                assert!(a.bits() == b.bits(), "{key} {} softmax {shape:?} [{k}]: {a:?}, PyTorch {b:?}", isa.name());
            }
            let c = shape[1];
            for (k, (&a, &b)) in ly.iter().zip(&lsm).enumerate() {
                let row = &x[k / c * c..(k / c + 1) * c];
                let m = row.iter().map(|v| f64::from(v.to_f32())).fold(f64::NEG_INFINITY, f64::max);
                let s: f64 = row.iter().map(|v| (f64::from(v.to_f32()) - m).exp()).sum();
                let exact = f64::from(x[k].to_f32()) - m - s.ln();
                let err = |h: H| (f64::from(h.to_f32()) - exact).abs();
                let same = a.bits() == b.bits();
                assert!(
                    same || err(a) <= err(b),
                    "{key} {} log_softmax {shape:?} [{k}]: {a:?} (error {}), PyTorch {b:?} (error {})",
                    isa.name(),
                    err(a),
                    err(b)
                );
                n += 1;
                lsm_equal += usize::from(same);
            }
        }
    }
    println!("{key}: log_softmax equal to PyTorch's bits on {lsm_equal} of {n} elements, closer to the exact value on the others");
}

#[test]
fn f16_matches_pytorch() {
    against_torch::<f16>("float16");
}

#[test]
fn bf16_matches_pytorch() {
    against_torch::<bf16>("bfloat16");
}

#[test]
fn wrong_lengths_are_errors() {
    let x = [f16::ZERO; 6];
    let mut y = [f16::ZERO; 5];
    let e = checked::softmax_half(&x, Geom::rows(2, 3), &mut y, Par::Seq).unwrap_err();
    assert!(e.to_string().contains("`out` has 5 elements"), "{e}");
    let e = checked::log_softmax_half(&x[..4], Geom::rows(2, 3), &mut [f16::ZERO; 6], Par::Seq).unwrap_err();
    assert!(e.to_string().contains("`x` has 4 elements"), "{e}");
    let e = xent::torch::softmax_half(&ArrayD::from_elem(IxDyn(&[2, 3]), bf16::ZERO), 2).unwrap_err();
    assert!(matches!(e, xent::Error::Axis { .. }), "{e}");
}

//! 16-bit inputs of the fused linear cross-entropy (`ops::linear_cross_entropy_half_vjp`)
//! against PyTorch 2.15 on CPU and against the exact result, from
//! `tests/data/lce_half.json` (made once by `tests/data/lce_half.py` with PyTorch
//! 2.15.0): bfloat16 and float16 `input` / `linear_weight`, index targets, mean / sum /
//! none with per-row upstream gradients, bias, label smoothing, ignore_index.
//!
//! Errors are counted in ulps of the 16-bit type at the exact value (float64 on the
//! same 16-bit inputs, materialised logits; values below 2^-16 of their tensor's
//! largest at that floor, see [`max_ulps`]). xent accumulates everything in float32 and
//! rounds each gradient once: at most 1 ulp from the exact value (asserted). PyTorch
//! rounds the logits and their gradient to the 16-bit type before the products, and
//! is measured several ulps off (printed; asserted no closer than xent).

use half::{bf16, f16};
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use serde_json::Value;
use xent::kernels::Half;
use xent::ops::{linear_cross_entropy_half_vjp, LinearCeOptions, LinearWants, Reduction};
use xent::Par;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("a list").iter().map(|t| t.as_f64().expect("a number")).collect()
}

/// One ulp of a type with `mant` fraction bits and smallest normal exponent `emin` at `v`.
fn ulp(v: f64, mant: i32, emin: i32) -> f64 {
    let e = if v == 0.0 { emin } else { (v.abs().log2().floor() as i32).max(emin) };
    2f64.powi(e - mant)
}

/// The largest error of `got` from `exact`, in ulps at the exact values, an exact value
/// below 2^-16 of the tensor's largest magnitude counted at that floor: such a value is a
/// cancellation of far larger terms, which float32 sums resolve to about 2^-24 of
/// those terms, not to a 16-bit ulp of the small result.
fn max_ulps(got: &[f64], exact: &[f64], (mant, emin): (i32, i32)) -> f64 {
    assert_eq!(got.len(), exact.len());
    let floor = exact.iter().fold(0.0f64, |m, v| m.max(v.abs())) * 2f64.powi(-16);
    got.iter().zip(exact).map(|(g, e)| (g - e).abs() / ulp(e.abs().max(floor), mant, emin)).fold(0.0, f64::max)
}

struct Res {
    loss: Vec<f64>,
    grads: [Vec<f64>; 3],
}

/// The results for two chunk budgets (one shard; several shards and row blocks, whose
/// float32 sums run in another order) on one and two threads.
fn run<H: Half>(c: &Value) -> Vec<Res> {
    let (n, d, cl) = (c["n"].as_u64().unwrap() as usize, c["d"].as_u64().unwrap() as usize, c["c"].as_u64().unwrap() as usize);
    let h = |v: &Value| floats(v).into_iter().map(|t| H::from_f32(t as f32)).collect::<Vec<H>>();
    let x = Array2::from_shape_vec((n, d), h(&c["input"])).unwrap();
    let w = Array2::from_shape_vec((cl, d), h(&c["linear_weight"])).unwrap();
    // the bias is 16-bit too: widened exactly
    let bias: Option<Vec<f32>> = c["linear_bias"].as_array().map(|_| floats(&c["linear_bias"]).iter().map(|&t| t as f32).collect());
    let y: Vec<i64> = c["target"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap()).collect();
    let reduction = match c["reduction"].as_str().unwrap() {
        "mean" => Reduction::Mean,
        "sum" => Reduction::Sum,
        _ => Reduction::None,
    };
    let up: Vec<f32> = floats(&c["upstream"]).iter().map(|&t| t as f32).collect();
    let g =
        if reduction == Reduction::None { ArrayD::from_shape_vec(IxDyn(&[n]), up).unwrap() } else { ArrayD::from_elem(IxDyn(&[]), up[0]) };
    let mut results = Vec::new();
    // the default budget (one shard), and one small enough for several shards and row blocks
    for chunk in [xent::ops::DEFAULT_CHUNK_BYTES, 4 * d * 16 * 4] {
        let o = LinearCeOptions {
            bias: bias.as_deref(),
            ignore_index: Some(-100),
            label_smoothing: c["label_smoothing"].as_f64().unwrap() as f32,
            reduction,
            chunk_bytes: chunk,
            ..Default::default()
        };
        for par in [Par::Seq, Par::Rayon(2)] {
            let r = linear_cross_entropy_half_vjp(
                &x.view(),
                &w.view(),
                &y,
                &o,
                &g.view(),
                LinearWants { bias: bias.is_some(), ..LinearWants::ALL },
                par,
            )
            .unwrap();
            let wide = |a: Vec<H>| a.into_iter().map(|t| f64::from(t.to_f32())).collect::<Vec<f64>>();
            results.push(Res {
                loss: r.loss.iter().map(|&t| f64::from(t)).collect(),
                grads: [
                    wide(r.input.unwrap().into_raw_vec_and_offset().0),
                    wide(r.linear_weight.unwrap().into_raw_vec_and_offset().0),
                    r.bias.map_or(vec![], |b: Array1<H>| wide(b.to_vec())),
                ],
            });
        }
    }
    results
}

#[test]
fn half_inputs_against_pytorch_and_the_exact_result() {
    let data: Value = serde_json::from_str(&std::fs::read_to_string("tests/data/lce_half.json").unwrap()).unwrap();
    assert_eq!(data["torch"].as_str().unwrap().split('+').next(), Some("2.15.0"));
    for c in data["cases"].as_array().unwrap() {
        let (rs, fmt) = match c["dtype"].as_str().unwrap() {
            "bfloat16" => (run::<bf16>(c), (7, -126)),
            "float16" => (run::<f16>(c), (10, -14)),
            other => panic!("dtype {other}"),
        };
        let (ex, pt) = (&c["exact"], &c["torch"]);
        let name = c["name"].as_str().unwrap();
        for (k, r) in rs.iter().enumerate() {
            // the loss is float32: close to the exact value in float32 terms
            for (l, e) in r.loss.iter().zip(floats(&ex["loss"])) {
                assert!((l - e).abs() <= 1e-6 * (1.0 + e.abs()), "{name}: loss {l} vs exact {e}");
            }
            for (i, key) in ["d_input", "d_linear_weight", "d_linear_bias"].into_iter().enumerate() {
                if ex[key].is_null() {
                    continue;
                }
                let exact = floats(&ex[key]);
                let xent_ulps = max_ulps(&r.grads[i], &exact, fmt);
                let torch_ulps = max_ulps(&floats(&pt[key]), &exact, fmt);
                if k == 0 {
                    println!("{name} {key}: xent {xent_ulps:.2} ulp, PyTorch {torch_ulps:.2} ulp from the exact value");
                }
                assert!(xent_ulps <= 1.0, "{name} {key}: xent {xent_ulps} ulps from the exact value");
                assert!(xent_ulps <= torch_ulps.max(0.5), "{name} {key}: xent {xent_ulps} ulps, PyTorch {torch_ulps}");
            }
        }
    }
}

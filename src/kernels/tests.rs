//! Accuracy and semantics tests of the row kernels, once per ISA (forced with
//! [`with_isa`]), against `f64` references computed here.

use super::*;
use crate::rng::SplitMix64;

/// The lengths every row test runs: 1..=67 (every tail of both vector widths), a
/// few past the block size, and two odd large ones.
fn lengths() -> Vec<usize> {
    let mut v: Vec<usize> = (1..=67).collect();
    v.extend([1000, 3007, 2048 + 5, 4096 + 17]);
    v
}

fn row(rng: &mut SplitMix64, n: usize, scale: f64, offset: f64) -> Vec<f32> {
    (0..n).map(|_| (offset + scale * rng.normal()) as f32).collect()
}

/// One unit in the last place of `f32` at `r` (subnormal spacing below 2^-126).
fn ulp(r: f64) -> f64 {
    let a = r.abs() as f32;
    let e = (a.to_bits() >> 23) as i32;
    if e == 0 {
        (-149f64).exp2()
    } else {
        f64::from(e - 150).exp2()
    }
}

/// Distance of `got` from `want` in ulps of `want`; 0 when both are the same
/// non-finite value or both NaN, infinite when only one is non-finite.
fn ulps(got: f32, want: f64) -> f64 {
    if got.is_nan() && want.is_nan() {
        return 0.0;
    }
    let rounded = want as f32;
    if !got.is_finite() || !rounded.is_finite() {
        return if got == rounded { 0.0 } else { f64::INFINITY };
    }
    (f64::from(got) - want).abs() / ulp(want)
}

fn lse64(x: &[f32]) -> f64 {
    let m = x.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
    m + x.iter().map(|&v| (f64::from(v) - m).exp()).sum::<f64>().ln()
}

fn isas() -> Vec<Isa> {
    Isa::available()
}

/// The error allowance, in ulps (or ulp-scaled), of a row result: a few ulps for the
/// exp and the final operations, plus `√n/4` for the accumulation of `n` terms in
/// `f32` (the SIMD paths sum in 64 lanes; the scalar reference sums sequentially).
fn tol(n: usize) -> f64 {
    4.0 + 0.25 * (n as f64).sqrt()
}

/// [`tol`] for `isa`: the scalar path sums a row sequentially in `f32`, whose error
/// grows with `n` itself (bounded by `(n − 1)·eps`; about `n/200` ulps measured on
/// 143k-class rows), so it gets `n/64` more.
fn tol_isa(isa: Isa, n: usize) -> f64 {
    tol(n) + if isa == Isa::Scalar { n as f64 / 64.0 } else { 0.0 }
}

const EPS: f64 = f32::EPSILON as f64;

fn max_abs(x: &[f32]) -> f64 {
    x.iter().fold(0.0f64, |a, &v| a.max(f64::from(v).abs()))
}

#[test]
fn isa_selection() {
    assert_eq!(Isa::available()[0], Isa::Scalar);
    assert!(Isa::detect().is_available());
    for isa in isas() {
        with_isa(isa, || {
            assert_eq!(current_isa(), isa);
            assert_eq!(f32::row_kernels(current_isa()).isa(), isa);
            with_isa(Isa::Scalar, || assert_eq!(current_isa(), Isa::Scalar));
            assert_eq!(current_isa(), isa);
        });
    }
    assert_eq!(Isa::from_name("AVX2"), Some(Isa::Avx2));
}

/// `exp` over a dense sweep of `[−104, 89]` and the special values, per ISA: at most
/// 1 ulp from `f64::exp` rounded, and exactly `f32::exp`'s behaviour at the edges.
#[test]
fn exp_accuracy_per_isa() {
    let mut xs: Vec<f32> = Vec::new();
    let mut v = -104.0f32;
    while v < 89.0 {
        xs.push(v);
        v += 0.000_77;
    }
    // around the overflow and underflow thresholds, every float
    for start in [88.70f32, -103.99, -87.35] {
        let mut v = start;
        for _ in 0..20_000 {
            xs.push(v);
            v = f32::from_bits(v.to_bits().wrapping_add(if v > 0.0 { 1 } else { u32::MAX }));
        }
    }
    xs.extend([0.0, -0.0, 1e-30, -1e-30, 1e-45, f32::MIN_POSITIVE, 1.0, -1.0, 88.0, -88.0, 100.0, -200.0, 1e30, -1e30]);
    for isa in isas() {
        let k = f32::row_kernels(isa);
        let mut out = vec![0.0f32; xs.len()];
        (k.exp)(&xs, &mut out);
        let mut worst = (0.0f64, 0.0f32);
        for (&x, &y) in xs.iter().zip(&out) {
            let want = f64::from(x).exp();
            let e = ulps(y, want);
            if e > worst.0 {
                worst = (e, x);
            }
        }
        assert!(worst.0 <= 1.0, "{isa:?}: exp off by {} ulp at x = {:e}", worst.0, worst.1);
        let special = [f32::NEG_INFINITY, f32::INFINITY, f32::NAN, -f32::NAN, 89.0, 88.8, -104.0, -150.0, f32::MAX, f32::MIN];
        let mut out = [0.0f32; 10];
        (k.exp)(&special, &mut out);
        for (&x, &y) in special.iter().zip(&out) {
            let want = x.exp();
            assert!(y == want || (y.is_nan() && want.is_nan()), "{isa:?}: exp({x}) = {y}, want {want}");
        }
    }
}

/// Every `f32`: `exp` within 1 ulp (slow; `cargo test -- --ignored`).
#[test]
#[ignore]
fn exp_exhaustive() {
    for isa in isas() {
        let k = f32::row_kernels(isa);
        let mut xs = vec![0.0f32; 1 << 20];
        let mut out = vec![0.0f32; 1 << 20];
        for hi in 0u32..(1 << 12) {
            for (j, x) in xs.iter_mut().enumerate() {
                *x = f32::from_bits((hi << 20) | j as u32);
            }
            (k.exp)(&xs, &mut out);
            for (&x, &y) in xs.iter().zip(&out) {
                let want = if x.is_nan() { f64::NAN } else { f64::from(x).exp() };
                assert!(ulps(y, want) <= 1.0, "{isa:?}: exp({x:e}) = {y:e}, want {want:e}");
            }
        }
    }
}

/// The vector `ln` (used by the small-class path) on `[1, 2^20]`: within 2 ulp.
#[test]
fn ln_accuracy_per_isa() {
    let xs: Vec<f32> = (0..200_000).map(|i| (1.0f64 + i as f64 * 5.2428).powf(1.0 + (i % 7) as f64 * 0.01) as f32).collect();
    for isa in isas() {
        let k = f32::row_kernels(isa);
        let mut out = vec![0.0f32; xs.len()];
        (k.ln)(&xs, &mut out);
        for (&x, &y) in xs.iter().zip(&out) {
            let e = ulps(y, f64::from(x).ln());
            // near x = 1 the result is tiny; allow 2 ulp of a value ≥ 2^-24 there
            assert!(e <= 2.0 || (f64::from(y) - f64::from(x).ln()).abs() < 1e-7, "{isa:?}: ln({x}) = {y}, off {e} ulp");
        }
        let mut out = [0.0f32; 2];
        (k.ln)(&[f32::NAN, 1.0], &mut out);
        assert!(out[0].is_nan() && out[1] == 0.0, "{isa:?}: {out:?}");
    }
}

/// softmax, log_softmax and logsumexp per ISA against `f64`. Bounds: `lse` within
/// `tol(n)·eps·(|lse| + max|x|)` (the shift by the max is exact only to its ulp);
/// `softmax_k` within `tol(n) + |ln p_k| + ln n` ulps (`x_k − m`, at most
/// `|ln p_k| + ln n`, is rounded to `f32`: an absolute error of `|x_k − m|·eps/2` in
/// the exponent); `log_softmax_k` within
/// `tol(n)` ulps or `tol(n)·(ulp(lse) + eps)` absolute (`ln s` of an `s` near 1 is
/// only good to `eps` absolute).
#[test]
fn softmax_family_accuracy_per_isa() {
    for isa in isas() {
        with_isa(isa, || {
            let mut rng = SplitMix64::new(7);
            for n in lengths() {
                for (scale, offset) in [(3.0, 0.0), (30.0, 1000.0), (0.01, -5.0)] {
                    let x = row(&mut rng, n, scale, offset);
                    let g = Geom::rows(1, n);
                    let l = lse64(&x);
                    let mut sm = vec![0.0f32; n];
                    let mut ls = vec![0.0f32; n];
                    let mut lse = [0.0f32];
                    softmax(&x, g, &mut sm, Par::Seq);
                    log_softmax(&x, g, &mut ls, Par::Seq);
                    logsumexp(&x, g, &mut lse, Par::Seq);
                    let t = tol(n);
                    let bound = t * EPS * (l.abs() + max_abs(&x));
                    assert!((f64::from(lse[0]) - l).abs() <= bound, "{isa:?} n={n}: lse {} vs {l}", lse[0]);
                    for (i, &xv) in x.iter().enumerate() {
                        let want = (f64::from(xv) - l).exp();
                        let e = ulps(sm[i], want);
                        assert!(
                            e <= t + want.ln().abs() + (n as f64).ln() || want < 1e-37,
                            "{isa:?} n={n} i={i}: softmax {} vs {want} ({e} ulp)",
                            sm[i]
                        );
                        let want = f64::from(xv) - l;
                        let abs = (f64::from(ls[i]) - want).abs();
                        assert!(
                            ulps(ls[i], want) <= t || abs <= t * (ulp(l) + EPS),
                            "{isa:?} n={n} i={i}: log_softmax {} vs {want}",
                            ls[i]
                        );
                    }
                }
            }
        });
    }
}

#[test]
fn backward_rows_per_isa() {
    for isa in isas() {
        with_isa(isa, || {
            let mut rng = SplitMix64::new(11);
            for n in lengths() {
                let x = row(&mut rng, n, 2.0, 0.0);
                let gy = row(&mut rng, n, 1.0, 0.0);
                let g = Geom::rows(1, n);
                let mut y = vec![0.0f32; n];
                softmax(&x, g, &mut y, Par::Seq);
                let mut dx = vec![0.0f32; n];
                softmax_bwd(&y, &gy, g, &mut dx, Par::Seq);
                let d: f64 = y.iter().zip(&gy).map(|(&a, &b)| f64::from(a) * f64::from(b)).sum();
                let scale: f64 = y.iter().zip(&gy).map(|(&a, &b)| f64::from(a) * (f64::from(b).abs() + d.abs())).sum::<f64>();
                for i in 0..n {
                    let want = f64::from(y[i]) * (f64::from(gy[i]) - d);
                    let bound =
                        tol(n) * f64::from(f32::EPSILON) * (f64::from(y[i]) * (f64::from(gy[i]).abs() + d.abs()) + scale * f64::from(y[i]));
                    assert!((f64::from(dx[i]) - want).abs() <= bound, "{isa:?} n={n}: softmax_bwd {} vs {want}", dx[i]);
                }
                let mut ly = vec![0.0f32; n];
                log_softmax(&x, g, &mut ly, Par::Seq);
                log_softmax_bwd(&ly, &gy, g, &mut dx, Par::Seq);
                let s: f64 = gy.iter().map(|&b| f64::from(b)).sum();
                let sabs: f64 = gy.iter().map(|&b| f64::from(b).abs()).sum();
                for i in 0..n {
                    let p = f64::from(ly[i]).exp();
                    let want = f64::from(gy[i]) - p * s;
                    let bound = tol(n) * f64::from(f32::EPSILON) * (f64::from(gy[i]).abs() + p * sabs);
                    assert!((f64::from(dx[i]) - want).abs() <= bound, "{isa:?} n={n}: log_softmax_bwd {} vs {want}", dx[i]);
                }
            }
        });
    }
}

/// The reformulated backward rows, per ISA: the softmax VJP of a constant upstream
/// (`d sum(softmax)`, 0 in exact arithmetic) is exactly 0 for a power-of-two constant
/// and within an ulp-scale of 0 otherwise; the log-softmax VJP from the input is
/// within an ulp of the `f64` value even where `1 − n·p` cancels; the dense gradient
/// (f64 per row for f32) within an ulp.
#[test]
fn backward_rows_accurate_per_isa() {
    for isa in isas() {
        with_isa(isa, || {
            let mut rng = SplitMix64::new(17);
            for n in lengths() {
                let x = row(&mut rng, n, 2.0, 0.0);
                let g = Geom::rows(1, n);
                let mut y = vec![0.0f32; n];
                softmax(&x, g, &mut y, Par::Seq);
                let mut dx = vec![1.0f32; n];
                for c in [1.0f32, -4.0, 0.5] {
                    softmax_bwd(&y, &vec![c; n], g, &mut dx, Par::Seq);
                    assert!(dx.iter().all(|&v| v == 0.0), "{isa:?} n={n} c={c}: {:?}", &dx[..n.min(4)]);
                }
                softmax_bwd(&y, &vec![0.1f32; n], g, &mut dx, Par::Seq);
                for i in 0..n {
                    assert!(f64::from(dx[i]).abs() <= tol(n) * EPS * 0.1 * f64::from(y[i]), "{isa:?} n={n}: {}", dx[i]);
                }
                let l = lse64(&x);
                let ones = vec![1.0f32; n];
                log_softmax_bwd_from_input(&x, &ones, g, &mut dx, Par::Seq);
                for i in 0..n {
                    let want = 1.0 - n as f64 * (f64::from(x[i]) - l).exp();
                    assert!(ulps(dx[i], want) <= 1.0, "{isa:?} n={n} i={i}: log_softmax_bwd {} vs {want}", dx[i]);
                }
                let t: Vec<f32> = (0..n).map(|_| rng.next_f64() as f32).collect();
                let a: f64 = t.iter().map(|&v| f64::from(v)).sum();
                let mut grad = vec![0.0f32; n];
                ce_dense_bwd(&x, &t, g, None, DenseGrad::Exact, Scale::Uniform(0.5), &mut grad, Par::Seq);
                for k in 0..n {
                    let want = 0.5 * ((f64::from(x[k]) - l).exp() * a - f64::from(t[k]));
                    assert!(ulps(grad[k], want) <= 1.0, "{isa:?} n={n} k={k}: dense grad {} vs {want}", grad[k]);
                }
            }
        });
    }
}

/// The sparse gradient's softmax keeps the digits of `x − m` (the rounding of both
/// subtractions folded back into the exp): with logits spread over ±40, the plain
/// `exp((x − m) − l)` is off by up to `|x − m − l|/2` ulps (≈ 40), this by a few.
#[test]
fn sparse_grad_softmax_keeps_its_digits_per_isa() {
    for isa in isas() {
        with_isa(isa, || {
            let mut rng = SplitMix64::new(23);
            for n in (2..=67).chain([100, 255]) {
                let x = row(&mut rng, n, 12.0, 0.0);
                let y = rng.index(n);
                let p = SparseCe { smoothing: 0.0, weight: None, ignore_index: None };
                let (mut loss, mut lse, mut grad) = ([0.0f32], [0.0f32], vec![0.0f32; n]);
                ce_sparse_fwd_bwd(&x, Geom::rows(1, n), &[y as i64], &p, Scale::Uniform(1.0), &mut loss, &mut lse, &mut grad, Par::Seq);
                let l = lse64(&x);
                for k in (0..n).filter(|&k| k != y) {
                    let want = (f64::from(x[k]) - l).exp();
                    assert!(ulps(grad[k], want) <= 3.0 + tol(n) || want < 1e-37, "{isa:?} n={n} k={k}: {} vs {want}", grad[k]);
                }
            }
        });
    }
}

/// The row sum is compensated on every ISA: ones beside ±2^24 (which a plain `f32`
/// sum drops) are all counted.
#[test]
fn compensated_sum_per_isa() {
    for isa in isas() {
        let k = f32::row_kernels(isa);
        for n in [1usize, 7, 16, 33, 100, 1000] {
            let mut x = vec![16_777_216.0f32];
            x.extend(std::iter::repeat_n(1.0f32, n));
            x.push(-16_777_216.0);
            assert_eq!((k.sum)(&x), n as f32, "{isa:?} n={n}");
            x.push(f32::INFINITY);
            assert_eq!((k.sum)(&x), f32::INFINITY, "{isa:?} n={n}");
        }
    }
}

/// `f64` reference of the sparse loss and gradient of one row.
fn sparse_ref(x: &[f32], y: usize, eps: f64, w: Option<&[f32]>, s: f64) -> (f64, Vec<f64>) {
    let c = x.len();
    let l = lse64(x);
    let wf = |k: usize| w.map_or(1.0, |w| f64::from(w[k]));
    let sum_w: f64 = (0..c).map(wf).sum();
    let loss = (1.0 - eps) * wf(y) * (l - f64::from(x[y])) + eps / c as f64 * (0..c).map(|k| wf(k) * (l - f64::from(x[k]))).sum::<f64>();
    let grad = (0..c)
        .map(|k| {
            let p = (f64::from(x[k]) - l).exp();
            let onehot = if k == y { 1.0 } else { 0.0 };
            s * ((1.0 - eps) * wf(y) * (p - onehot) + eps / c as f64 * (p * sum_w - wf(k)))
        })
        .collect();
    (loss, grad)
}

/// Sparse CE forward, backward, fused and in-place per ISA against `f64`, with
/// smoothing and weights. Bounds: loss within `tol(n)·eps·(|loss| + |lse| + max|x|)`;
/// gradient within `tol(n)·eps·|g_k| + 2·s·p_k·eps·(tol(n) + |x_k − lse| + |lse|)`
/// (the rounding of the exponent, as for softmax, and of the `f32` lse the backward
/// is given) plus `f32::MIN_POSITIVE` for underflow.
#[test]
fn sparse_ce_per_isa() {
    for isa in isas() {
        with_isa(isa, || {
            let mut rng = SplitMix64::new(13);
            for n in lengths() {
                let w: Vec<f32> = (0..n).map(|_| (0.5 + rng.next_f64()) as f32).collect();
                let cases = [(0.0, false, 3.0, 0.0), (0.1, false, 3.0, 0.0), (0.0, true, 30.0, 100.0), (0.2, true, 3.0, -50.0)];
                for (eps, weighted, sc, off) in cases {
                    let x = row(&mut rng, n, sc, off);
                    let y = rng.index(n);
                    let p = SparseCe { smoothing: eps as f32, weight: weighted.then_some(&w[..]), ignore_index: Some(-100) };
                    let s = 0.25f32;
                    let (want_loss, want_grad) = sparse_ref(&x, y, f64::from(p.smoothing), p.weight, f64::from(s));
                    let g = Geom::rows(1, n);
                    let labels = [y as i64];
                    let (mut loss, mut lse) = ([0.0f32], [0.0f32]);
                    ce_sparse_fwd(&x, g, &labels, &p, &mut loss, &mut lse, Par::Seq);
                    let mut grad = vec![0.0f32; n];
                    ce_sparse_bwd(&x, g, &labels, &p, &lse, Scale::Uniform(s), &mut grad, Par::Seq);
                    let mut fused = vec![0.0f32; n];
                    let (mut loss2, mut lse2) = ([0.0f32], [0.0f32]);
                    ce_sparse_fwd_bwd(&x, g, &labels, &p, Scale::Uniform(s), &mut loss2, &mut lse2, &mut fused, Par::Seq);
                    let mut inplace = x.clone();
                    let (mut loss3, mut lse3) = ([0.0f32], [0.0f32]);
                    let sp = [s];
                    ce_sparse_fwd_bwd_in_place(&mut inplace, g, &labels, &p, Scale::PerPosition(&sp), &mut loss3, &mut lse3, Par::Seq);
                    assert_eq!((loss2, lse2), (loss, lse), "{isa:?} n={n}");
                    assert_eq!((loss3, lse3), (loss, lse), "{isa:?} n={n}");
                    assert_eq!(fused, inplace, "{isa:?} n={n}");
                    let (t, l64) = (tol(n), lse64(&x));
                    let bound = t * EPS * (want_loss.abs() + l64.abs() + max_abs(&x));
                    assert!((f64::from(loss[0]) - want_loss).abs() <= bound, "{isa:?} n={n}: loss {} vs {want_loss}", loss[0]);
                    for k in 0..n {
                        let pk = (f64::from(x[k]) - l64).exp();
                        let dk = (f64::from(x[k]) - l64).abs() + l64.abs();
                        let b = EPS * (t * want_grad[k].abs() + f64::from(s) * 2.0 * pk * (t + dk)) + f64::from(f32::MIN_POSITIVE);
                        for (what, got) in [("bwd", grad[k]), ("fused", fused[k])] {
                            let e = (f64::from(got) - want_grad[k]).abs();
                            assert!(e <= b, "{isa:?} n={n} k={k}: {what} {got} vs {}", want_grad[k]);
                        }
                    }
                }
            }
        });
    }
}

/// NaN, infinite, or finite.
fn class(v: f32) -> u8 {
    if v.is_nan() {
        0
    } else if v == f32::INFINITY {
        1
    } else if v == f32::NEG_INFINITY {
        2
    } else {
        3
    }
}

/// `got` matches the scalar reference `want`: same class, and close when finite.
fn same(got: f32, want: f32) -> bool {
    class(got) == class(want) && (class(got) != 3 || (got - want).abs() <= 1e-30 + 1e-5 * want.abs())
}

/// Rows whose entries reach down to where `exp` underflows, per ISA: blocks whose
/// every entry lies within `EXP_ZERO` of the running max (the exp without the
/// underflow mask, denormal results included) and blocks with an entry just below it
/// or `−inf`, `−1e6`, `−3e38` (the masked exp). The softmax matches `f64` within 2
/// denormal steps plus 4 ulp, and the cross-entropy within 1e-6 relative. This checks
/// values, not the routing: on AMD Zen 4 the unmasked exp also gives 0 for every one
/// of those entries (measured by sending every block down the unmasked path: this test
/// still passed), so there the mask only saves time.
#[test]
fn underflow_edge_per_isa() {
    let zero = super::simd::EXP_ZERO;
    let below = f32::from_bits(zero.to_bits() + 1);
    let mut rng = SplitMix64::new(11);
    let mut rows: Vec<(&str, Vec<f32>)> = Vec::new();
    for n in [100usize, 3000, 5000] {
        // block 0 peaks at −50 (the running max then rises to 0 in the last block)
        let base: Vec<f32> = (0..n).map(|k| if k == n - 1 { 0.0 } else { zero + rng.uniform(0.0, 54.0) as f32 }).collect();
        let mut hi = base.clone();
        hi[0] = -50.0;
        rows.push(("live", hi.clone()));
        let mut r = hi.clone();
        r[n / 2] = below;
        rows.push(("one below EXP_ZERO", r));
        let mut r = hi;
        r[n / 3] = f32::NEG_INFINITY;
        rows.push(("one -inf", r));
        let mut r = base.clone();
        r[1] = zero;
        rows.push(("EXP_ZERO itself", r));
        // far below: only the mask makes these 0 (the unmasked range reduction breaks
        // down past about 2^18·ln2)
        for (what, v) in [("one at -1e6", -1e6f32), ("one at -3e38", -3e38)] {
            let mut r = base.clone();
            r[n / 2] = v;
            rows.push((what, r));
        }
    }
    for isa in isas() {
        with_isa(isa, || {
            for (what, x) in &rows {
                let n = x.len();
                let g = Geom::rows(1, n);
                let m = x.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
                let s: f64 = x.iter().map(|&v| (f64::from(v) - m).exp()).sum();
                let mut got = vec![0.0f32; n];
                softmax(x, g, &mut got, Par::Seq);
                for k in 0..n {
                    let want = (f64::from(x[k]) - m).exp() / s;
                    let err = (f64::from(got[k]) - want).abs();
                    assert!(
                        err <= 2.0 * 2f64.powi(-149) + 4.0 * f64::from(f32::EPSILON) * want,
                        "{isa:?} n={n} {what}: softmax[{k}] of {} = {:e}, want {want:e}",
                        x[k],
                        got[k]
                    );
                }
                let (mut loss, mut lse) = ([0.0f32], [0.0f32]);
                ce_sparse_fwd(x, g, &[0], &SparseCe::default(), &mut loss, &mut lse, Par::Seq);
                let want = m + s.ln() - f64::from(x[0]);
                assert!((f64::from(loss[0]) - want).abs() <= 1e-6 * want.abs(), "{isa:?} n={n} {what}: loss {} want {want}", loss[0]);
            }
        });
    }
}

/// Rows with NaN, ±inf, all −inf, −inf entries, huge and tiny values; several are
/// longer than a block (2048) so a NaN can hide behind an all-`−inf` first block.
fn special_rows() -> Vec<(String, Vec<f32>)> {
    let mut rng = SplitMix64::new(5);
    let mut rows = Vec::new();
    for n in [1usize, 2, 7, 16, 17, 33, 100, 5000] {
        let base = row(&mut rng, n, 2.0, 0.0);
        for p in [0, n / 2, n - 1] {
            for (what, v) in [("nan", f32::NAN), ("+inf", f32::INFINITY), ("-inf", f32::NEG_INFINITY)] {
                let mut r = base.clone();
                r[p] = v;
                rows.push((format!("n={n} {what}@{p}"), r));
            }
        }
        let mut r = base.clone();
        for k in (0..n).step_by(3) {
            r[k] = f32::NEG_INFINITY;
        }
        if n > 1 {
            rows.push((format!("n={n} -inf every 3rd"), r));
        }
        rows.push((format!("n={n} all -inf"), vec![f32::NEG_INFINITY; n]));
        let mut r = vec![f32::NEG_INFINITY; n];
        r[n - 1] = f32::NAN;
        rows.push((format!("n={n} -inf and a nan"), r));
        let huge: Vec<f32> = (0..n).map(|k| [3e38, -3e38, 1e30, -1e30, 0.0, -0.0][k % 6]).collect();
        rows.push((format!("n={n} huge"), huge));
        let tiny: Vec<f32> = (0..n).map(|k| [1e-40, -1e-45, 1e-38, 0.0][k % 4]).collect();
        rows.push((format!("n={n} tiny"), tiny));
    }
    for (what, v) in [("nan", f32::NAN), ("finite", 1.5f32), ("+inf", f32::INFINITY)] {
        let mut r = vec![f32::NEG_INFINITY; 6000];
        r[3000] = v;
        r[4500] = 0.25;
        rows.push((format!("all -inf block then {what}"), r));
    }
    rows
}

/// Per ISA, every kernel on every special row matches the scalar reference of
/// `scalar.rs` in kind (NaN / ±inf / finite) and closely in value; `−inf` entries of
/// a row with a finite max give exactly 0 (softmax) and `−inf` (log-softmax).
#[test]
fn special_values_per_isa() {
    let rows = special_rows();
    for isa in isas() {
        with_isa(isa, || {
            for (name, x) in &rows {
                let n = x.len();
                let g = Geom::rows(1, n);
                let (mut want, mut got) = (vec![0.0f32; n], vec![0.0f32; n]);
                scalar::softmax_row(x, &mut want);
                softmax(x, g, &mut got, Par::Seq);
                let finite_max = x.iter().all(|v| !v.is_nan() && *v != f32::INFINITY) && x.iter().any(|v| v.is_finite());
                for k in 0..n {
                    assert!(same(got[k], want[k]), "{isa:?} {name} softmax[{k}] {} vs {}", got[k], want[k]);
                    if finite_max && x[k] == f32::NEG_INFINITY {
                        assert!(got[k] == 0.0 && got[k].is_sign_positive(), "{isa:?} {name} softmax[{k}]");
                    }
                }
                scalar::log_softmax_row(x, &mut want);
                log_softmax(x, g, &mut got, Par::Seq);
                for k in 0..n {
                    assert!(same(got[k], want[k]), "{isa:?} {name} log_softmax[{k}] {} vs {}", got[k], want[k]);
                    if finite_max && x[k] == f32::NEG_INFINITY {
                        assert_eq!(got[k], f32::NEG_INFINITY, "{isa:?} {name} log_softmax[{k}]");
                    }
                }
                let mut lse = [0.0f32];
                logsumexp(x, g, &mut lse, Par::Seq);
                let lref = scalar::logsumexp(x);
                assert!(same(lse[0], lref), "{isa:?} {name} lse {} vs {lref}", lse[0]);
                for y in [0, n / 2, n - 1] {
                    let p = SparseCe::default();
                    let (mut loss, mut l2, mut l3) = ([0.0f32], [0.0f32], [0.0f32]);
                    ce_sparse_fwd_bwd(x, g, &[y as i64], &p, Scale::Uniform(0.5), &mut loss, &mut l2, &mut got, Par::Seq);
                    let lref = scalar::logsumexp(x);
                    // kind from the f32 reference, value from f64: the reference's
                    // `lse − x_y` loses `ln s` next to huge logits, the kernel's `(m − x_y) + ln s` does not
                    assert_eq!(class(loss[0]), class(lref - x[y]), "{isa:?} {name} y={y} loss {} vs {}", loss[0], lref - x[y]);
                    let m = x.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
                    let l64 = (m - f64::from(x[y])) + x.iter().map(|&v| (f64::from(v) - m).exp()).sum::<f64>().ln();
                    assert!(
                        class(loss[0]) != 3 || (f64::from(loss[0]) - l64).abs() <= 1e-6 * (l64.abs() + 1.0),
                        "{isa:?} {name} y={y}: {} vs {l64}",
                        loss[0]
                    );
                    assert!(same(l2[0], lref), "{isa:?} {name} y={y} lse");
                    scalar::sparse_grad_row(x, &mut want, lref, 0.5, 0.0, None, Some(y), 0.5);
                    let ls = x.iter().map(|&v| (f64::from(v) - m).exp()).sum::<f64>().ln();
                    for k in 0..n {
                        let g64 = 0.5 * ((f64::from(x[k]) - m) - ls).exp() - if k == y { 0.5 } else { 0.0 };
                        assert_eq!(class(got[k]), class(want[k]), "{isa:?} {name} y={y} grad[{k}] {} vs {}", got[k], want[k]);
                        assert!(
                            class(got[k]) != 3 || (f64::from(got[k]) - g64).abs() <= 1e-6,
                            "{isa:?} {name} y={y} grad[{k}] {} vs {g64}",
                            got[k]
                        );
                    }
                    let mut inplace = x.clone();
                    ce_sparse_fwd_bwd_in_place(&mut inplace, g, &[y as i64], &p, Scale::Uniform(0.5), &mut loss, &mut l3, Par::Seq);
                    assert_eq!(
                        inplace.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                        got.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                    );
                }
            }
        });
    }
}

/// The non-temporal store path (peeled head, streamed body, tail) writes exactly
/// what the ordinary path writes, at every misalignment.
#[test]
fn nt_stores_match_per_isa() {
    let mut rng = SplitMix64::new(9);
    let x = row(&mut rng, 300, 3.0, 0.0);
    for isa in isas() {
        let k = f32::row_kernels(isa);
        for off in 0..17 {
            for n in [0usize, 1, 15, 16, 17, 40, 283 - off] {
                let xs = &x[off..off + n];
                let mut a = vec![0.0f32; 300];
                let mut b = vec![0.0f32; 300];
                (k.exp_scale)(xs, &mut a[off..off + n], 0.5, 0.25, Wr::nt(false));
                (k.exp_scale)(xs, &mut b[off..off + n], 0.5, 0.25, Wr::nt(true));
                assert_eq!(a, b, "{isa:?} exp_scale off={off} n={n}");
                (k.exp_scale)(xs, &mut b[off..off + n], 0.5, 0.25, Wr::with_next_unfenced(true, xs));
                assert_eq!(a, b, "{isa:?} exp_scale with next off={off} n={n}");
                let gr = Grad { m: 0.5, l: 0.1, a: 0.3, b_all: 0.01, w: None, y: Some(n / 2), b_y: 0.2 };
                (k.sparse_grad)(xs, &mut a[off..off + n], &gr, Wr::nt(false));
                (k.sparse_grad)(xs, &mut b[off..off + n], &gr, Wr::nt(true));
                assert_eq!(a, b, "{isa:?} sparse_grad (fenced) off={off} n={n}");
                (k.sparse_grad)(xs, &mut b[off..off + n], &gr, Wr::with_next_unfenced(true, xs));
                assert_eq!(a, b, "{isa:?} sparse_grad off={off} n={n}");
                let (mut e, mut mb) = (vec![0.0f32; n], vec![0.0f32; n.div_ceil(simd::rows::BLOCK)]);
                let (m, sum) = (k.max_sum_exp_store)(xs, &mut e, &mut mb, false);
                (k.scale_from_exp)(&e, &mut a[off..off + n], &mb, m, 1.0 / sum, Wr::nt(false));
                (k.scale_from_exp)(&e, &mut b[off..off + n], &mb, m, 1.0 / sum, Wr::with_next_unfenced(true, xs));
                assert_eq!(a, b, "{isa:?} scale_from_exp off={off} n={n}");
                (k.grad_from_exp)(&e, &mut a[off..off + n], &mb, &gr, Wr::nt(false));
                (k.grad_from_exp)(&e, &mut b[off..off + n], &mb, &gr, Wr::with_next_unfenced(true, xs));
                assert_eq!(a, b, "{isa:?} grad_from_exp off={off} n={n}");
                (k.sub2)(xs, &mut a[off..off + n], 0.5, 0.25, Wr::nt(false));
                (k.sub2)(xs, &mut b[off..off + n], 0.5, 0.25, Wr::with_next_unfenced(true, xs));
                assert_eq!(a, b, "{isa:?} sub2 off={off} n={n}");
            }
        }
    }
}

/// The row drivers' non-temporal paths, reached by lowering the threshold on this
/// thread, per ISA, sequential and on the pool: log-softmax and the fused
/// cross-entropy gradient write what the ordinary paths write, bit for bit, and so
/// does softmax (rows under `CACHE_MIN` classes recompute their exps, longer ones keep
/// them in the scratch row where the ordinary path keeps them in the output row),
/// whose `f32` values are also checked against `f64` as in
/// `softmax_family_accuracy_per_isa`.
#[test]
fn nt_row_drivers_per_isa() {
    fn run<T: Float>(x: &[T], g: Geom, nt: bool, par: Par) -> (Vec<T>, Vec<T>, Vec<T>) {
        NT_MIN_TEST.with(|c| c.set(Some(if nt { 0 } else { usize::MAX })));
        let n = x.len();
        let (mut sm, mut ls, mut gr) = (vec![T::zero(); n], vec![T::zero(); n], vec![T::zero(); n]);
        let labels: Vec<i64> = (0..g.outer as i64).map(|i| i * 7 % g.classes as i64).collect();
        let (mut loss, mut lse) = (vec![T::zero(); g.outer], vec![T::zero(); g.outer]);
        softmax(x, g, &mut sm, par);
        log_softmax(x, g, &mut ls, par);
        ce_sparse_fwd_bwd(x, g, &labels, &SparseCe::default(), Scale::Uniform(T::one()), &mut loss, &mut lse, &mut gr, par);
        NT_MIN_TEST.with(|c| c.set(None));
        (sm, ls, gr)
    }
    let mut rng = SplitMix64::new(13);
    for isa in isas() {
        with_isa(isa, || {
            for c in [100usize, 300, 3000, 9000, 40_000] {
                // enough rows for the pool to split them (2·GRAIN elements)
                let rows = (2 * GRAIN).div_ceil(c).max(3);
                let g = Geom::rows(rows, c);
                let x = row(&mut rng, rows * c, 3.0, 0.0);
                let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
                for par in [Par::Seq, Par::all()] {
                    let (sm0, ls0, gr0) = run(&x, g, false, par);
                    let (sm1, ls1, gr1) = run(&x, g, true, par);
                    assert_eq!(ls0, ls1, "{isa:?} c={c} log_softmax");
                    assert_eq!(gr0, gr1, "{isa:?} c={c} CE gradient");
                    assert_eq!(sm0, sm1, "{isa:?} c={c} softmax");
                    // against f64, but not the scalar rows: they sum sequentially in f32,
                    // and their error grows with `c` beyond `tol` at 40000 classes
                    for (r, xr) in x.chunks(c).enumerate().filter(|_| isa != Isa::Scalar) {
                        let l = lse64(xr);
                        let t = tol(c);
                        for (i, &xv) in xr.iter().enumerate() {
                            let want = (f64::from(xv) - l).exp();
                            let got = sm1[r * c + i];
                            assert!(
                                ulps(got, want) <= t + want.ln().abs() + (c as f64).ln() || want < 1e-37,
                                "{isa:?} c={c} softmax {got} vs {want}"
                            );
                        }
                    }
                    let (sm0, ls0, gr0) = run(&x64, g, false, par);
                    let (sm1, ls1, gr1) = run(&x64, g, true, par);
                    assert_eq!(ls0, ls1, "{isa:?} c={c} log_softmax f64");
                    assert_eq!(gr0, gr1, "{isa:?} c={c} CE gradient f64");
                    assert_eq!(sm0, sm1, "{isa:?} c={c} softmax f64");
                }
            }
        });
    }
}

/// Softmax from exps kept in the output row (`scale_in_place`, the path of outputs that
/// stay in the cache) equals softmax from a scratch row (`scale_from_exp`) bit for bit,
/// per ISA, `f32` and `f64`, on rows of one and of several blocks whose max grows from
/// block to block (each block scaled by its own factor).
#[test]
fn scale_in_place_matches_scale_from_exp_per_isa() {
    fn check<T: Float>(k: &RowKernels<T>, x: &[T], what: &str) {
        let n = x.len();
        let nb = n.div_ceil(simd::rows::BLOCK);
        let (mut e, mut mb) = (vec![T::zero(); n], vec![T::zero(); nb]);
        let (m, s) = (k.max_sum_exp_store)(x, &mut e, &mut mb, true);
        let mut want = vec![T::zero(); n];
        (k.scale_from_exp)(&e, &mut want, &mb, m, s.recip(), Wr::nt(false));
        let (mut got, mut mb2) = (vec![T::zero(); n], vec![T::zero(); nb]);
        let (m2, s2) = (k.max_sum_exp_store)(x, &mut got, &mut mb2, false);
        assert!(m2 == m && s2 == s && mb2 == mb, "{what}: the first pass differs");
        (k.scale_in_place)(&mut got, &mb2, m2, s2.recip(), Wr::with_next_unfenced(false, x));
        let bits = |v: &[T]| v.iter().map(|t| t.f64().to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want), "{what}");
    }
    let mut rng = SplitMix64::new(21);
    for isa in isas() {
        for n in [0usize, 1, 17, 300, 2047, 2048, 2049, 5000, 9001] {
            // a rising trend: the running max grows in every block
            let x: Vec<f32> = row(&mut rng, n, 2.0, 0.0).iter().enumerate().map(|(i, v)| v + i as f32 * 0.004).collect();
            check(f32::row_kernels(isa), &x, &format!("{isa:?} f32 n={n}"));
            let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
            check(f64::row_kernels(isa), &x64, &format!("{isa:?} f64 n={n}"));
        }
    }
}

/// Many rows, the tiled path (`inner > 1`) and the parallel split give, bit for bit,
/// what one row at a time gives.
#[test]
fn geometry_and_threads_per_isa() {
    // 37 classes: the plain row kernels; 300: the kept-exp path (`CACHE_MIN`)
    geometry_and_threads(40, 37, 50);
    geometry_and_threads(7, 300, 33);
}

fn geometry_and_threads(outer: usize, c: usize, inner: usize) {
    let mut rng = SplitMix64::new(21);
    let x = row(&mut rng, outer * c * inner, 3.0, 0.0);
    let labels: Vec<i64> = (0..outer * inner).map(|i| if i % 11 == 3 { -1 } else { rng.index(c) as i64 }).collect();
    let g = Geom { outer, classes: c, inner };
    // the same data with the class axis last
    let mut xt = vec![0.0f32; x.len()];
    for o in 0..outer {
        for k in 0..c {
            for j in 0..inner {
                xt[(o * inner + j) * c + k] = x[(o * c + k) * inner + j];
            }
        }
    }
    let gt = Geom::rows(outer * inner, c);
    let p = SparseCe { smoothing: 0.1, weight: None, ignore_index: Some(-1) };
    for isa in isas() {
        with_isa(isa, || {
            let mut sm = vec![0.0f32; x.len()];
            let mut smt = vec![0.0f32; x.len()];
            softmax(&x, g, &mut sm, Par::Rayon(3));
            softmax(&xt, gt, &mut smt, Par::Seq);
            for o in 0..outer {
                for k in 0..c {
                    for j in 0..inner {
                        assert_eq!(sm[(o * c + k) * inner + j], smt[(o * inner + j) * c + k]);
                    }
                }
            }
            let np = outer * inner;
            let (mut l1, mut e1, mut l2, mut e2) = (vec![0.0f32; np], vec![0.0f32; np], vec![0.0f32; np], vec![0.0f32; np]);
            let mut g1 = vec![0.0f32; x.len()];
            ce_sparse_fwd_bwd(&x, g, &labels, &p, Scale::Uniform(0.01), &mut l1, &mut e1, &mut g1, Par::Rayon(2));
            let mut g2 = x.clone();
            ce_sparse_fwd_bwd_in_place(&mut g2, g, &labels, &p, Scale::Uniform(0.01), &mut l2, &mut e2, Par::all());
            assert_eq!((&l1, &e1, &g1), (&l2, &e2, &g2));
            let mut g3 = xt.clone();
            ce_sparse_fwd_bwd_in_place(&mut g3, gt, &labels, &p, Scale::Uniform(0.01), &mut l2, &mut e2, Par::Seq);
            assert_eq!((&l1, &e1), (&l2, &e2));
            for o in 0..outer {
                for k in 0..c {
                    for j in 0..inner {
                        assert_eq!(g1[(o * c + k) * inner + j], g3[(o * inner + j) * c + k]);
                    }
                }
            }
        });
    }
}

/// Dense CE forward and both backward modes, with weights, per ISA against `f64`.
#[test]
fn dense_ce_per_isa() {
    for isa in isas() {
        with_isa(isa, || {
            let mut rng = SplitMix64::new(17);
            for n in lengths() {
                let x = row(&mut rng, n, 3.0, 0.0);
                let mut t: Vec<f32> = (0..n).map(|_| rng.next_f64() as f32).collect();
                let ts: f32 = t.iter().sum();
                t.iter_mut().for_each(|v| *v /= ts);
                let w: Vec<f32> = (0..n).map(|_| (0.5 + rng.next_f64()) as f32).collect();
                let g = Geom::rows(1, n);
                let l64 = lse64(&x);
                for weight in [None, Some(&w[..])] {
                    let wf = |k: usize| weight.map_or(1.0, |w| f64::from(w[k]));
                    let (mut loss, mut lse) = ([0.0f32], [0.0f32]);
                    ce_dense_fwd(&x, &t, g, weight, &mut loss, &mut lse, Par::Seq);
                    let want: f64 = (0..n).map(|k| wf(k) * f64::from(t[k]) * (l64 - f64::from(x[k]))).sum();
                    let terms: f64 = (0..n).map(|k| wf(k) * f64::from(t[k]) * (l64.abs() + f64::from(x[k]).abs())).sum();
                    assert!(
                        (f64::from(loss[0]) - want).abs() <= tol(n) * EPS * (terms + l64.abs()),
                        "{isa:?} n={n}: {} vs {want}",
                        loss[0]
                    );
                    let a: f64 = (0..n).map(|k| wf(k) * f64::from(t[k])).sum();
                    for (mode, aa) in [(DenseGrad::Exact, a), (DenseGrad::Kernel, 1.0)] {
                        if mode == DenseGrad::Kernel && weight.is_some() {
                            continue;
                        }
                        let mut grad = vec![0.0f32; n];
                        dense_ce_bwd_check(&x, &t, g, weight, mode, &mut grad);
                        for k in 0..n {
                            let pk = (f64::from(x[k]) - l64).exp();
                            let wantk = 0.5 * (pk * aa - wf(k) * f64::from(t[k]));
                            let b = EPS * (tol(n) * wantk.abs() + pk * aa * (tol(n) + (f64::from(x[k]) - l64).abs() + l64.abs()));
                            assert!((f64::from(grad[k]) - wantk).abs() <= b + 1e-38, "{isa:?} n={n} {mode:?}: {} vs {wantk}", grad[k]);
                        }
                    }
                }
            }
        });
    }
}

fn dense_ce_bwd_check(x: &[f32], t: &[f32], g: Geom, w: Option<&[f32]>, mode: DenseGrad, grad: &mut [f32]) {
    ce_dense_bwd(x, t, g, w, mode, Scale::Uniform(0.5), grad, Par::Seq);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn rows() -> impl Strategy<Value = Vec<f32>> {
        proptest::collection::vec(-30.0f32..30.0, 1..200)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Softmax rows sum to 1 within `n·eps`, on every ISA.
        #[test]
        fn softmax_sums_to_one(x in rows()) {
            for isa in isas() {
                let mut y = vec![0.0f32; x.len()];
                with_isa(isa, || softmax(&x, Geom::rows(1, x.len()), &mut y, Par::Seq));
                let s: f64 = y.iter().map(|&v| f64::from(v)).sum();
                prop_assert!((s - 1.0).abs() <= x.len() as f64 * EPS, "{:?}: {}", isa, s);
            }
        }

        /// `log_softmax(x + c) = log_softmax(x)` up to the rounding of `x + c`.
        #[test]
        fn log_softmax_shift_invariant(x in rows(), c in -100.0f32..100.0) {
            let n = x.len();
            let xc: Vec<f32> = x.iter().map(|&v| v + c).collect();
            for isa in isas() {
                let (mut a, mut b) = (vec![0.0f32; n], vec![0.0f32; n]);
                with_isa(isa, || {
                    log_softmax(&x, Geom::rows(1, n), &mut a, Par::Seq);
                    log_softmax(&xc, Geom::rows(1, n), &mut b, Par::Seq);
                });
                let bound = 4.0 * tol(n) * EPS * (f64::from(c.abs()) + 60.0);
                for k in 0..n {
                    prop_assert!((f64::from(a[k]) - f64::from(b[k])).abs() <= bound, "{:?}: {} vs {}", isa, a[k], b[k]);
                }
            }
        }

        /// Cross-entropy is ≥ 0 (non-negative weights, any smoothing), and the
        /// gradient of each row sums to 0 (unit-sum targets), within `n·eps`.
        #[test]
        fn ce_nonnegative_and_grad_sums_to_zero(x in rows(), y in 0usize..1000, eps in 0.0f32..1.0) {
            let n = x.len();
            let y = y % n;
            let p = SparseCe { smoothing: eps, weight: None, ignore_index: None };
            for isa in isas() {
                let (mut loss, mut lse, mut grad) = ([0.0f32], [0.0f32], vec![0.0f32; n]);
                with_isa(isa, || ce_sparse_fwd_bwd(&x, Geom::rows(1, n), &[y as i64], &p, Scale::Uniform(1.0), &mut loss, &mut lse, &mut grad, Par::Seq));
                prop_assert!(loss[0] >= 0.0, "{:?}: loss {}", isa, loss[0]);
                let s: f64 = grad.iter().map(|&v| f64::from(v)).sum();
                prop_assert!(s.abs() <= 2.0 * n as f64 * EPS, "{:?}: Σ grad = {}", isa, s);
                let t: Vec<f32> = (0..n).map(|k| if k == y { 1.0 } else { 0.0 }).collect();
                let (mut dl, mut dg) = ([0.0f32], vec![0.0f32; n]);
                with_isa(isa, || {
                    ce_dense_fwd(&x, &t, Geom::rows(1, n), None, &mut dl, &mut lse, Par::Seq);
                    ce_dense_bwd(&x, &t, Geom::rows(1, n), None, DenseGrad::Kernel, Scale::Uniform(1.0), &mut dg, Par::Seq);
                });
                prop_assert!(dl[0] >= 0.0);
                let s: f64 = dg.iter().map(|&v| f64::from(v)).sum();
                // the backward gets the f32 lse: its rounding shifts every p_k by |lse|·eps/2
                prop_assert!(s.abs() <= (2.0 * n as f64 + f64::from(lse[0].abs())) * EPS, "{:?}: Σ dense grad = {}", isa, s);
            }
        }
    }
}

/// Half-precision kernels compute exactly what the `f32` kernels compute on the
/// widened inputs (same ISA, same operations), and round the gradient like
/// `half`'s `from_f32`.
fn half_matches_f32<H: Half>() {
    let mut rng = SplitMix64::new(31);
    for isa in isas() {
        for n in lengths().into_iter().chain([1, 5000]) {
            let xh: Vec<H> = (0..n).map(|_| H::from_f32((3.0 * rng.normal()) as f32)).collect();
            let xf: Vec<f32> = xh.iter().map(|v| v.to_f32()).collect();
            let w: Vec<f32> = (0..n).map(|_| (0.5 + rng.next_f64()) as f32).collect();
            let labels = [rng.index(n) as i64];
            let g = Geom::rows(1, n);
            for (eps, weight) in [(0.0, None), (0.1, Some(&w[..]))] {
                let p = SparseCe { smoothing: eps, weight, ignore_index: None };
                let s = Scale::Uniform(0.5);
                let (mut lf, mut ef, mut gf) = ([0.0f32], [0.0f32], vec![0.0f32; n]);
                let (mut lh, mut eh, mut gh) = ([0.0f32], [0.0f32], vec![H::default(); n]);
                with_isa(isa, || {
                    ce_sparse_fwd_bwd(&xf, g, &labels, &p, s, &mut lf, &mut ef, &mut gf, Par::Seq);
                    ce_sparse_fwd_bwd_half(&xh, g, &labels, &p, s, &mut lh, &mut eh, &mut gh, Par::Seq);
                });
                assert_eq!((lf, ef), (lh, eh), "{isa:?} {} n={n}", std::any::type_name::<H>());
                let want: Vec<H> = gf.iter().map(|&v| H::from_f32(v)).collect();
                assert_eq!(format!("{gh:?}"), format!("{want:?}"), "{isa:?} n={n}");
                let (mut l2, mut e2) = ([0.0f32], [0.0f32]);
                let mut inplace = xh.clone();
                with_isa(isa, || {
                    ce_sparse_fwd_half(&xh, g, &labels, &p, &mut l2, &mut e2, Par::Seq);
                    assert_eq!((l2, e2), (lh, eh));
                    ce_sparse_fwd_bwd_half_in_place(&mut inplace, g, &labels, &p, s, &mut l2, &mut e2, Par::Seq);
                });
                assert_eq!((l2, e2), (lh, eh));
                assert_eq!(format!("{inplace:?}"), format!("{gh:?}"));
            }
        }
        // rounding of arbitrary f32 values (ties, subnormals, overflow, NaN): with
        // `a = 0` and `b_all = −1` the gradient row is exactly the weights
        let k = H::half_kernels(isa);
        let vals: Vec<f32> = [
            // bf16 ties (1 + 2^-8, 1 + 3·2^-8), just above a tie, f16 overflow edges,
            // f16 subnormals and their ties, f32 subnormals and extremes
            1.0f32,
            1.0 + 2f32.powi(-8),
            1.0 + 2f32.powi(-8) + 2f32.powi(-20),
            1.0 + 3.0 * 2f32.powi(-8),
            -1.0 - 2f32.powi(-8),
            65504.0,
            65520.0,
            65519.99,
            1e-8,
            6e-8,
            3e-8,
            2f32.powi(-25),
            1e-40,
            f32::MAX,
            f32::MIN_POSITIVE,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            0.0,
            2.5,
            1.0e30,
            -2.5e-39,
        ]
        .into_iter()
        .chain((0..500).map(|_| f32::from_bits(rng.next_u64() as u32)))
        .collect();
        let x = vec![H::from_f32(0.0); vals.len()];
        let mut out = vec![H::default(); vals.len()];
        let gr = Grad { m: 0.0, l: 0.0, a: 0.0, b_all: -1.0, w: Some(&vals[..]), y: None, b_y: 0.0 };
        (k.sparse_grad)(&x, &mut out, &gr, Wr::nt(false));
        for (o, &v) in out.iter().zip(&vals) {
            let want = H::from_f32(v);
            let same_bits = format!("{o:?}") == format!("{want:?}");
            // 0·p − (−1)·(−0) is +0: the sign of a zero input does not survive this probe
            assert!(
                same_bits || (v.is_nan() && o.to_f32().is_nan()) || (v == 0.0 && o.to_f32() == 0.0),
                "{isa:?}: {v:e} -> {o:?}, want {want:?}"
            );
        }
    }
}

#[test]
fn half_f16_matches_f32_per_isa() {
    half_matches_f32::<half::f16>();
}

#[test]
fn half_bf16_matches_f32_per_isa() {
    half_matches_f32::<half::bf16>();
}

/// The few-classes path (`C ≤ 16`, rows in lanes) meets the same accuracy bounds as
/// the row kernels, for every `C`, with a row count that leaves a partial group, with
/// weights, smoothing, ignored rows and per-row scales.
#[test]
fn few_classes_per_isa() {
    let mut rng = SplitMix64::new(41);
    let outer = 53;
    for isa in isas() {
        with_isa(isa, || {
            for c in 1..=16usize {
                let x = row(&mut rng, outer * c, 3.0, 0.0);
                let labels: Vec<i64> = (0..outer).map(|r| if r % 7 == 3 { -100 } else { rng.index(c) as i64 }).collect();
                let w: Vec<f32> = (0..c).map(|_| (0.5 + rng.next_f64()) as f32).collect();
                let sc: Vec<f32> = (0..outer).map(|_| (0.1 + rng.next_f64()) as f32).collect();
                let g = Geom::rows(outer, c);
                let (mut sm, mut ls, mut lse) = (vec![0.0f32; outer * c], vec![0.0f32; outer * c], vec![0.0f32; outer]);
                softmax(&x, g, &mut sm, Par::Seq);
                log_softmax(&x, g, &mut ls, Par::Seq);
                logsumexp(&x, g, &mut lse, Par::Seq);
                let t = tol(c);
                for r in 0..outer {
                    let xr = &x[r * c..(r + 1) * c];
                    let l = lse64(xr);
                    assert!((f64::from(lse[r]) - l).abs() <= t * EPS * (l.abs() + max_abs(xr)), "{isa:?} c={c} r={r}: lse");
                    for k in 0..c {
                        let want = (f64::from(xr[k]) - l).exp();
                        assert!(
                            ulps(sm[r * c + k], want) <= t + want.ln().abs() + (c as f64).ln() || want < 1e-37,
                            "{isa:?} c={c} r={r}: softmax {} vs {want}: {} ulp",
                            sm[r * c + k],
                            ulps(sm[r * c + k], want)
                        );
                        let want = f64::from(xr[k]) - l;
                        let got = ls[r * c + k];
                        assert!(
                            ulps(got, want) <= t || (f64::from(got) - want).abs() <= t * (ulp(l) + EPS),
                            "{isa:?} c={c} r={r}: log_softmax {got} vs {want}, lse {l}, x {xr:?}"
                        );
                    }
                }
                for (eps, weight) in [(0.0f32, None), (0.1, None), (0.0, Some(&w[..])), (0.2, Some(&w[..]))] {
                    let p = SparseCe { smoothing: eps, weight, ignore_index: Some(-100) };
                    let scale = Scale::PerPosition(&sc);
                    let (mut l1, mut e1) = (vec![0.0f32; outer], vec![0.0f32; outer]);
                    ce_sparse_fwd(&x, g, &labels, &p, &mut l1, &mut e1, Par::Seq);
                    let (mut l2, mut e2, mut g2) = (vec![0.0f32; outer], vec![0.0f32; outer], vec![0.0f32; outer * c]);
                    ce_sparse_fwd_bwd(&x, g, &labels, &p, scale, &mut l2, &mut e2, &mut g2, Par::Seq);
                    let (mut l3, mut e3, mut g3) = (vec![0.0f32; outer], vec![0.0f32; outer], x.clone());
                    ce_sparse_fwd_bwd_in_place(&mut g3, g, &labels, &p, scale, &mut l3, &mut e3, Par::Seq);
                    let mut gb = vec![0.0f32; outer * c];
                    ce_sparse_bwd(&x, g, &labels, &p, &e1, scale, &mut gb, Par::Seq);
                    assert_eq!((&l1, &e1), (&l2, &e2), "{isa:?} c={c}");
                    assert_eq!((&l2, &e2, &g2), (&l3, &e3, &g3), "{isa:?} c={c}");
                    for r in 0..outer {
                        let xr = &x[r * c..(r + 1) * c];
                        if labels[r] == -100 {
                            assert_eq!(l1[r], 0.0);
                            assert!(g2[r * c..(r + 1) * c].iter().chain(&gb[r * c..(r + 1) * c]).all(|&v| v == 0.0));
                            continue;
                        }
                        let y = labels[r] as usize;
                        let (want_loss, want_grad) = sparse_ref(xr, y, f64::from(eps), weight, f64::from(sc[r]));
                        let l64 = lse64(xr);
                        let bound = t * EPS * (want_loss.abs() + l64.abs() + max_abs(xr));
                        assert!((f64::from(l1[r]) - want_loss).abs() <= bound, "{isa:?} c={c} r={r}: loss {} vs {want_loss}", l1[r]);
                        for k in 0..c {
                            let pk = (f64::from(xr[k]) - l64).exp();
                            let dk = (f64::from(xr[k]) - l64).abs() + l64.abs();
                            let b = EPS * (t * want_grad[k].abs() + f64::from(sc[r]) * 2.0 * pk * (t + dk)) + f64::from(f32::MIN_POSITIVE);
                            for (what, got) in [("fused", g2[r * c + k]), ("bwd", gb[r * c + k])] {
                                assert!(
                                    (f64::from(got) - want_grad[k]).abs() <= b,
                                    "{isa:?} c={c} r={r} k={k}: {what} {got} vs {}",
                                    want_grad[k]
                                );
                            }
                        }
                    }
                }
            }
        });
    }
}

/// Special rows through the few-classes path: same kinds (NaN / ±inf / finite) as
/// the scalar reference, exact 0 and `−inf` for `−inf` entries of finite rows.
#[test]
fn few_classes_special_values_per_isa() {
    let mut rng = SplitMix64::new(43);
    for isa in isas() {
        with_isa(isa, || {
            for c in [1usize, 3, 10, 16] {
                let outer = 40;
                let mut x = row(&mut rng, outer * c, 2.0, 0.0);
                for r in 0..outer {
                    let xr = &mut x[r * c..(r + 1) * c];
                    match r % 8 {
                        0 => xr[rng.index(c)] = f32::NAN,
                        1 => xr[rng.index(c)] = f32::INFINITY,
                        2 => xr.fill(f32::NEG_INFINITY),
                        3 => xr[rng.index(c)] = f32::NEG_INFINITY,
                        4 => xr.iter_mut().enumerate().for_each(|(k, v)| *v = [3e38, -3e38, 1e-40][k % 3]),
                        _ => {}
                    }
                }
                let labels: Vec<i64> = (0..outer).map(|_| rng.index(c) as i64).collect();
                let g = Geom::rows(outer, c);
                let (mut sm, mut ls) = (vec![0.0f32; outer * c], vec![0.0f32; outer * c]);
                softmax(&x, g, &mut sm, Par::Seq);
                log_softmax(&x, g, &mut ls, Par::Seq);
                let (mut loss, mut lse, mut grad) = (vec![0.0f32; outer], vec![0.0f32; outer], vec![0.0f32; outer * c]);
                let p = SparseCe::default();
                ce_sparse_fwd_bwd(&x, g, &labels, &p, Scale::Uniform(1.0), &mut loss, &mut lse, &mut grad, Par::Seq);
                for r in 0..outer {
                    let xr = &x[r * c..(r + 1) * c];
                    let (mut a, mut b) = (vec![0.0f32; c], vec![0.0f32; c]);
                    scalar::softmax_row(xr, &mut a);
                    scalar::log_softmax_row(xr, &mut b);
                    let lref = scalar::logsumexp(xr);
                    assert_eq!(class(lse[r]), class(lref), "{isa:?} c={c} r={r}: lse {} vs {lref}", lse[r]);
                    let y = labels[r] as usize;
                    assert_eq!(class(loss[r]), class(lref - xr[y]), "{isa:?} c={c} r={r}: loss");
                    let finite_max = xr.iter().all(|v| !v.is_nan() && *v != f32::INFINITY) && xr.iter().any(|v| v.is_finite());
                    for k in 0..c {
                        assert_eq!(class(sm[r * c + k]), class(a[k]), "{isa:?} c={c} r={r} k={k}: softmax {} vs {}", sm[r * c + k], a[k]);
                        assert_eq!(class(ls[r * c + k]), class(b[k]), "{isa:?} c={c} r={r} k={k}: log_softmax");
                        assert_eq!(class(grad[r * c + k]), class(a[k]), "{isa:?} c={c} r={r} k={k}: grad");
                        if finite_max && xr[k] == f32::NEG_INFINITY {
                            assert!(sm[r * c + k] == 0.0 && ls[r * c + k] == f32::NEG_INFINITY, "{isa:?} c={c} r={r} k={k}");
                        }
                    }
                }
            }
        });
    }
}

/// Rows wider than `WIDE_MIN` with fewer rows than twice the tasks are split across
/// threads and merged: the same accuracy bounds as one row per thread, and the same
/// special-value kinds (a NaN hiding in a chunk whose neighbours are all `−inf`).
#[test]
fn wide_rows_split_per_isa() {
    let mut rng = SplitMix64::new(51);
    let c = WIDE_MIN + 12345;
    for outer in [1usize, 3] {
        let x = row(&mut rng, outer * c, 3.0, 0.0);
        let g = Geom::rows(outer, c);
        let labels: Vec<i64> = (0..outer).map(|r| if r == 1 { -100 } else { rng.index(c) as i64 }).collect();
        let par = Par::Rayon(2);
        assert!(wide::Plan::new(g, par).is_some());
        for isa in isas() {
            with_isa(isa, || {
                let (mut sm, mut ls, mut lse) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()], vec![0.0f32; outer]);
                softmax(&x, g, &mut sm, par);
                log_softmax(&x, g, &mut ls, par);
                logsumexp(&x, g, &mut lse, par);
                let t = tol_isa(isa, c);
                for r in 0..outer {
                    let xr = &x[r * c..(r + 1) * c];
                    let l = lse64(xr);
                    assert!((f64::from(lse[r]) - l).abs() <= t * EPS * (l.abs() + max_abs(xr)), "{isa:?} r={r}: lse");
                    for k in (0..c).step_by(97) {
                        let want = (f64::from(xr[k]) - l).exp();
                        let e = ulps(sm[r * c + k], want);
                        assert!(e <= t + want.ln().abs() + (c as f64).ln() || want < 1e-37, "{isa:?} r={r} k={k}: softmax {e} ulp");
                        let want = f64::from(xr[k]) - l;
                        let got = ls[r * c + k];
                        assert!(ulps(got, want) <= t || (f64::from(got) - want).abs() <= t * (ulp(l) + EPS), "{isa:?}: log_softmax");
                    }
                }
                let p = SparseCe { smoothing: 0.1, weight: None, ignore_index: Some(-100) };
                let (mut l1, mut e1, mut g1) = (vec![0.0f32; outer], vec![0.0f32; outer], vec![0.0f32; x.len()]);
                ce_sparse_fwd_bwd(&x, g, &labels, &p, Scale::Uniform(0.5), &mut l1, &mut e1, &mut g1, par);
                let (mut l2, mut e2, mut g2) = (vec![0.0f32; outer], vec![0.0f32; outer], x.clone());
                ce_sparse_fwd_bwd_in_place(&mut g2, g, &labels, &p, Scale::Uniform(0.5), &mut l2, &mut e2, par);
                let (mut l3, mut e3) = (vec![0.0f32; outer], vec![0.0f32; outer]);
                ce_sparse_fwd(&x, g, &labels, &p, &mut l3, &mut e3, par);
                let mut g3 = vec![0.0f32; x.len()];
                ce_sparse_bwd(&x, g, &labels, &p, &e1, Scale::Uniform(0.5), &mut g3, par);
                assert_eq!((&l1, &e1, &g1), (&l2, &e2, &g2), "{isa:?}");
                assert_eq!((&l1, &e1), (&l3, &e3), "{isa:?}");
                for r in 0..outer {
                    let xr = &x[r * c..(r + 1) * c];
                    if labels[r] == -100 {
                        assert_eq!(l1[r], 0.0);
                        assert!(g1[r * c..(r + 1) * c].iter().chain(&g3[r * c..(r + 1) * c]).all(|&v| v == 0.0));
                        continue;
                    }
                    let y = labels[r] as usize;
                    let (want_loss, want_grad) = sparse_ref(xr, y, 0.1f32.into(), None, 0.5);
                    let l64 = lse64(xr);
                    let bound = t * EPS * (want_loss.abs() + l64.abs() + max_abs(xr));
                    assert!((f64::from(l1[r]) - want_loss).abs() <= bound, "{isa:?} r={r}: loss {} vs {want_loss}", l1[r]);
                    for k in (0..c).step_by(89).chain([y]) {
                        let pk = (f64::from(xr[k]) - l64).exp();
                        let dk = (f64::from(xr[k]) - l64).abs() + l64.abs();
                        let b = EPS * (t * want_grad[k].abs() + pk * (t + dk)) + f64::from(f32::MIN_POSITIVE);
                        for (what, got) in [("fused", g1[r * c + k]), ("bwd", g3[r * c + k])] {
                            assert!((f64::from(got) - want_grad[k]).abs() <= b, "{isa:?} r={r} k={k}: {what} {got} vs {}", want_grad[k]);
                        }
                    }
                }
                // a NaN in the second chunk of a row whose first chunk is all −inf
                let mut xs = vec![f32::NEG_INFINITY; c];
                xs[c / 2] = f32::NAN;
                xs[c - 1] = 1.0;
                let g1r = Geom::rows(1, c);
                let mut o = vec![0.0f32; c];
                softmax(&xs, g1r, &mut o, par);
                assert!(o.iter().all(|v| v.is_nan()), "{isa:?}");
                let mut lse1 = [0.0f32];
                logsumexp(&xs, g1r, &mut lse1, par);
                assert!(lse1[0].is_nan());
                xs[c / 2] = f32::NEG_INFINITY;
                softmax(&xs, g1r, &mut o, par);
                assert!(o[..c - 1].iter().all(|&v| v == 0.0) && o[c - 1] == 1.0, "{isa:?}");
            });
        }
    }
}

/// The few-classes path for 16-bit logits (blocks widened to `f32`) computes exactly
/// what the `f32` few-classes path computes on the widened logits.
fn half_few_classes<H: Half>() {
    let mut rng = SplitMix64::new(61);
    let outer = 53;
    for isa in isas() {
        for c in 1..=16usize {
            let xh: Vec<H> = (0..outer * c).map(|_| H::from_f32((3.0 * rng.normal()) as f32)).collect();
            let xf: Vec<f32> = xh.iter().map(|v| v.to_f32()).collect();
            let labels: Vec<i64> = (0..outer).map(|r| if r % 9 == 4 { -100 } else { rng.index(c) as i64 }).collect();
            let g = Geom::rows(outer, c);
            let p = SparseCe { smoothing: 0.05, weight: None, ignore_index: Some(-100) };
            let s = Scale::Uniform(1.0 / outer as f32);
            let (mut lf, mut ef, mut gf) = (vec![0.0f32; outer], vec![0.0f32; outer], vec![0.0f32; outer * c]);
            let (mut lh, mut eh, mut gh) = (vec![0.0f32; outer], vec![0.0f32; outer], vec![H::default(); outer * c]);
            let (mut l2, mut e2, mut l3, mut e3) = (vec![0.0f32; outer], vec![0.0f32; outer], vec![0.0f32; outer], vec![0.0f32; outer]);
            let mut inplace = xh.clone();
            with_isa(isa, || {
                ce_sparse_fwd_bwd(&xf, g, &labels, &p, s, &mut lf, &mut ef, &mut gf, Par::Seq);
                ce_sparse_fwd_bwd_half(&xh, g, &labels, &p, s, &mut lh, &mut eh, &mut gh, Par::Seq);
                ce_sparse_fwd_half(&xh, g, &labels, &p, &mut l2, &mut e2, Par::Seq);
                ce_sparse_fwd_bwd_half_in_place(&mut inplace, g, &labels, &p, s, &mut l3, &mut e3, Par::Seq);
            });
            assert_eq!((&lf, &ef), (&lh, &eh), "{isa:?} c={c}");
            assert_eq!((&lh, &eh), (&l2, &e2), "{isa:?} c={c}");
            assert_eq!((&lh, &eh), (&l3, &e3), "{isa:?} c={c}");
            let want: Vec<H> = gf.iter().map(|&v| H::from_f32(v)).collect();
            assert_eq!(format!("{gh:?}"), format!("{want:?}"), "{isa:?} c={c}");
            assert_eq!(format!("{inplace:?}"), format!("{want:?}"), "{isa:?} c={c}");
        }
    }
}

#[test]
fn half_few_classes_per_isa() {
    half_few_classes::<half::f16>();
    half_few_classes::<half::bf16>();
}

/// The sysfs cache sizes behind `llc_bytes`: the units Linux writes, and nothing else.
#[test]
fn cache_size_bytes_parses_sysfs() {
    assert_eq!(cache_size_bytes("32768K"), Some(32 << 20));
    assert_eq!(cache_size_bytes("1M"), Some(1 << 20));
    assert_eq!(cache_size_bytes("2G"), Some(2 << 30));
    assert_eq!(cache_size_bytes("512"), Some(512));
    for bad in ["", "K", "32 K", "32KB", "-1K", "1.5M", "99999999999999999999999G"] {
        assert_eq!(cache_size_bytes(bad), None, "{bad:?}");
    }
    assert!(llc_bytes() > 0 && nt_min_bytes() == llc_bytes() / 2);
}

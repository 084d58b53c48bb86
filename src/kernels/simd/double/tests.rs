//! Tests of the `f64` SIMD layer and row kernels, once per ISA (forced with
//! [`with_isa`] or by taking the ISA's table), against references computed here in
//! double-double arithmetic (about 100 bits), and against the scalar `f64` kernels
//! on rows with NaN, `±inf`, `−inf` masks, empty and 1-class rows.

use crate::float::Float;
use crate::kernels::table::Wr;
use crate::kernels::{
    ce_sparse_bwd, ce_sparse_fwd, ce_sparse_fwd_bwd, ce_sparse_fwd_bwd_in_place, log_softmax, logsumexp, scalar, softmax, with_isa, Geom,
    Isa, Par, Scale, SparseCe,
};
use crate::rng::SplitMix64;

// ---------------------------------------------------------------------------------
// Double-double reference.

/// An unevaluated sum `hi + lo`, `|lo| ≤ ulp(hi)/2`.
#[derive(Debug, Clone, Copy)]
struct Dd(f64, f64);

fn two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    let bb = s - a;
    Dd(s, (a - (s - bb)) + (b - bb))
}

fn fast_two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    Dd(s, b - (s - a))
}

fn dd_add(a: Dd, b: Dd) -> Dd {
    let s = two_sum(a.0, b.0);
    fast_two_sum(s.0, s.1 + a.1 + b.1)
}

fn dd_mul(a: Dd, b: Dd) -> Dd {
    let p = a.0 * b.0;
    let e = a.0.mul_add(b.0, -p);
    fast_two_sum(p, e + a.0 * b.1 + a.1 * b.0)
}

fn dd_neg(a: Dd) -> Dd {
    Dd(-a.0, -a.1)
}

/// `ln 2` as a double-double.
const LN2: Dd = Dd(std::f64::consts::LN_2, 2.319_046_813_846_299_6e-17);

/// `exp(x) = p·2ⁿ` with `p` in double-double (relative error far below 1e-25) for
/// finite `x` (`n` unbounded, so no overflow or underflow happens here).
fn exp_dd(x: Dd) -> (Dd, i32) {
    let n = (x.0 * std::f64::consts::LOG2_E).round();
    let r = dd_add(x, dd_neg(dd_mul(Dd(n, 0.0), LN2)));
    // e^r = (e^(r/2^10))^(2^10); Taylor to degree 10 on |r/2^10| < 3.4e-4
    let t = Dd(r.0 / 1024.0, r.1 / 1024.0);
    let mut p = Dd(1.0 / 3628800.0, 0.0);
    let mut fact = 3628800.0f64;
    for k in (0..10).rev() {
        fact /= f64::from(k + 1);
        let c = if k == 0 { Dd(1.0, 0.0) } else { two_sum(1.0 / fact, 0.0) };
        // `1/k!` rounded: a relative error of 2^-53 on a term below 6e-8 of the sum
        p = dd_add(dd_mul(p, t), c);
    }
    for _ in 0..10 {
        p = dd_mul(p, p);
    }
    (p, n as i32)
}

/// `2^k` for any `k` as a product of two normal factors applied to `v`.
fn scale2(v: f64, k: i32) -> f64 {
    let h = k / 2;
    v * pow2i(h) * pow2i(k - h)
}

/// Error of `got` against `exp(x)` in ulps of the correctly rounded result (the
/// subnormal spacing below `2^-1022`); 0 when both are 0 or both `inf`, infinite when
/// only one is.
fn exp_ulps(got: f64, x: f64) -> f64 {
    if !(-746.0..=710.0).contains(&x) {
        let want = if x > 0.0 { f64::INFINITY } else { 0.0 };
        return if got == want { 0.0 } else { f64::INFINITY };
    }
    let (p, n) = exp_dd(Dd(x, 0.0));
    let want = scale2(p.0, n);
    if want == 0.0 || want.is_infinite() || got == 0.0 || got.is_infinite() {
        return if got == want { 0.0 } else { f64::INFINITY };
    }
    // in the scaled domain (exact: `got` is a power-of-two multiple away from `p`)
    let g = scale2(got, -n);
    let e = (p.0.to_bits() >> 52) as i32 - 1023;
    let u = if n < -1000 { pow2i(e - 52).max(pow2i(-1074 - n)) } else { pow2i(e - 52) };
    ((g - p.0) - p.1).abs() / u
}

fn isas() -> Vec<Isa> {
    Isa::available()
}

/// `exp` per ISA over a dense sweep of `[−745.2, 709.8]`, every double around the
/// overflow and underflow thresholds and the start of the subnormal range, and the
/// special values: within [`EXP_BOUND`] ulps of the double-double reference, and
/// exactly `f64::exp` at the edges (0, subnormal, `inf`, NaN).
#[test]
fn exp_f64_accuracy_per_isa() {
    let mut xs: Vec<f64> = Vec::new();
    let mut v = -745.2f64;
    while v < 709.8 {
        xs.push(v);
        v += 0.004_37;
    }
    let mut rng = SplitMix64::new(3);
    xs.extend((0..100_000).map(|_| (rng.next_f64() - 0.5) * 2.0));
    for start in [709.78, -745.14, -708.4, -0.35] {
        let mut v: f64 = start;
        for _ in 0..20_000 {
            xs.push(v);
            v = f64::from_bits(v.to_bits().wrapping_add(if v > 0.0 { 1 } else { u64::MAX }));
        }
    }
    xs.extend([0.0, -0.0, 1e-300, -1e-300, 5e-324, f64::MIN_POSITIVE, 1.0, -1.0, 709.0, -709.0, 710.0, -746.0, 1e300, -1e300]);
    for isa in isas() {
        let k = f64::row_kernels(isa);
        let mut out = vec![0.0f64; xs.len()];
        (k.exp)(&xs, &mut out);
        let (mut worst, mut at) = (0.0f64, 0.0f64);
        for (&x, &y) in xs.iter().zip(&out) {
            let e = exp_ulps(y, x);
            if e > worst {
                (worst, at) = (e, x);
            }
            // never more than 1 ulp from the libm exp either
            let want = x.exp();
            let d = if want == 0.0 || want.is_infinite() { f64::from(u8::from(y != want)) } else { (y - want).abs() / ulp(want) };
            assert!(d <= 1.0, "{isa:?}: exp({x:e}) = {y:e}, f64::exp {want:e}");
        }
        println!("{isa:?}: exp max error {worst:.4} ulp at x = {at:e}");
        assert!(worst <= EXP_BOUND, "{isa:?}: exp off by {worst} ulp at x = {at:e}");
        // `exp_nonpos` (the softmax exp, with its own scaling on AVX2), read off the
        // exps `max_sum_exp_store` keeps: a row whose max is 0 stores `exp(x − 0)`
        let mut row = vec![0.0f64];
        row.extend(xs.iter().copied().filter(|&x| x <= 0.0));
        row.push(f64::NEG_INFINITY);
        let mut e = vec![0.0f64; row.len()];
        let mut mb = vec![0.0f64; row.len().div_ceil(crate::kernels::simd::rows::BLOCK)];
        (k.max_sum_exp_store)(&row, &mut e, &mut mb, false);
        assert!(mb.iter().all(|&m| m == 0.0), "{isa:?}");
        let (mut worst, mut at) = (0.0f64, 0.0f64);
        for (&x, &y) in row.iter().zip(&e) {
            let err = if x == f64::NEG_INFINITY { f64::from(u8::from(y != 0.0)) } else { exp_ulps(y, x) };
            if err > worst {
                (worst, at) = (err, x);
            }
        }
        println!("{isa:?}: exp of x ≤ 0 (softmax path) max error {worst:.4} ulp at x = {at:e}");
        assert!(worst <= EXP_BOUND, "{isa:?}: softmax exp off by {worst} ulp at x = {at:e}");
        let special =
            [f64::NEG_INFINITY, f64::INFINITY, f64::NAN, -f64::NAN, 710.0, 709.8, -746.0, -1e4, f64::MAX, f64::MIN, -745.13, -745.14];
        let mut out = [0.0f64; 12];
        (k.exp)(&special, &mut out);
        for (&x, &y) in special.iter().zip(&out) {
            let want = x.exp();
            assert!(y.to_bits() == want.to_bits() || (y.is_nan() && want.is_nan()), "{isa:?}: exp({x}) = {y:e}, want {want:e}");
        }
    }
}

/// The measured bound of the vector exp (the module docs state the measurement).
const EXP_BOUND: f64 = 1.0;

/// One unit in the last place of `f64` at `r` (subnormal spacing below 2^-1022).
fn ulp(r: f64) -> f64 {
    let e = (r.abs().to_bits() >> 52) as i32;
    pow2i(e.max(1) - 1075)
}

/// `2^k`, exactly, for `k ∈ [−1074, 1023]`.
fn pow2i(k: i32) -> f64 {
    assert!((-1074..=1023).contains(&k));
    if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074))
    }
}

// ---------------------------------------------------------------------------------
// Row kernels.

/// Lengths: every tail of both vector widths, past one and two blocks, odd large ones.
fn lengths() -> Vec<usize> {
    let mut v: Vec<usize> = (1..=40).collect();
    v.extend([63, 64, 65, 255, 256, 257, 1000, 2048 + 5, 4096 + 17]);
    v
}

fn row(rng: &mut SplitMix64, n: usize, scale: f64, offset: f64) -> Vec<f64> {
    (0..n).map(|_| offset + scale * rng.normal()).collect()
}

/// Reference row statistics: `m`, and `e_k = exp(x_k − m)` and `s = Σ e_k` in
/// double-double (`x_k − m` taken exactly).
struct Stats {
    m: f64,
    e: Vec<Dd>,
    s: Dd,
}

fn stats(x: &[f64]) -> Stats {
    let m = x.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let e: Vec<Dd> = x
        .iter()
        .map(|&v| {
            let d = two_sum(v, -m);
            if d.0.is_nan() || d.0 <= -800.0 {
                // exp underflows to 0 (−inf entries, huge gaps)
                return Dd(0.0, 0.0);
            }
            let (p, n) = exp_dd(d);
            Dd(scale2(p.0, n), scale2(p.1, n))
        })
        .collect();
    let s = e.iter().fold(Dd(0.0, 0.0), |a, &b| dd_add(a, b));
    Stats { m, e, s }
}

impl Stats {
    /// `e_k / s` to about an ulp.
    fn p(&self, k: usize) -> f64 {
        let (e, s) = (self.e[k], self.s);
        if e.0 == 0.0 {
            return 0.0;
        }
        e.0 / s.0 * (1.0 + (e.1 / e.0 - s.1 / s.0))
    }
    /// `ln s` to about an ulp.
    fn ls(&self) -> f64 {
        self.s.0.ln() + self.s.1 / self.s.0
    }
}

/// The error allowance in ulps of a row result: a few for the exp and the final
/// operations, plus `√n/4` for the accumulation of `n` terms (the SIMD paths sum in
/// 16 or 32 lanes), and `n/64` more for the scalar path, which sums sequentially.
fn tol(isa: Isa, n: usize) -> f64 {
    4.0 + 0.25 * (n as f64).sqrt() + if isa == Isa::Scalar { n as f64 / 64.0 } else { 0.0 }
}

const EPS: f64 = f64::EPSILON;

/// softmax, log_softmax, logsumexp, the sparse cross-entropy forward, backward and
/// fused forward+backward (out of place and in place, with weights, smoothing and an
/// ignored row), per ISA, against the double-double reference, in ulps.
#[test]
fn rows_accuracy_per_isa() {
    for isa in isas() {
        with_isa(isa, || {
            assert_eq!(f64::row_kernels(crate::kernels::current_isa()).isa(), isa);
            let mut rng = SplitMix64::new(7);
            for n in lengths() {
                for (scale, offset) in [(3.0, 0.0), (30.0, 1000.0), (0.01, -5.0), (200.0, 0.0)] {
                    let x = row(&mut rng, n, scale, offset);
                    let g = Geom::rows(1, n);
                    let st = stats(&x);
                    let (ls, t) = (st.ls(), tol(isa, n));
                    let l = st.m + ls;
                    let what = format!("{isa:?} n={n} scale={scale}");
                    let mut sm = vec![0.0f64; n];
                    let mut lsm = vec![0.0f64; n];
                    let mut lse = [0.0f64];
                    softmax(&x, g, &mut sm, Par::Seq);
                    log_softmax(&x, g, &mut lsm, Par::Seq);
                    logsumexp(&x, g, &mut lse, Par::Seq);
                    assert!((lse[0] - l).abs() <= t * EPS * (st.m.abs() + ls.abs()), "{what}: lse {} vs {l}", lse[0]);
                    for k in 0..n {
                        let want = st.p(k);
                        // plus the rounding of `x − m`, shared with the scalar path: `|x − m|·eps/2`
                        // relative
                        let dm = ulp(x[k] - st.m) / EPS;
                        assert!(
                            (sm[k] - want).abs() <= (t + dm) * ulp(want) || want < 1e-300,
                            "{what} k={k}: softmax {} vs {want} ({} ulp)",
                            sm[k],
                            (sm[k] - want).abs() / ulp(want)
                        );
                        // (x − m) − ln s: the shift is exact to its ulp, ln s to eps absolute
                        let d = x[k] - st.m;
                        let want = d - ls;
                        assert!(
                            (lsm[k] - want).abs() <= t * (ulp(want) + ulp(d) + ulp(ls) + EPS),
                            "{what} k={k}: log_softmax {} vs {want}",
                            lsm[k]
                        );
                    }
                    let y = rng.index(n);
                    let w: Vec<f64> = (0..n).map(|_| 0.5 + rng.next_f64()).collect();
                    for (eps, weighted) in [(0.0, false), (0.1, false), (0.0, true), (0.2, true)] {
                        let p = SparseCe { smoothing: eps, weight: weighted.then_some(&w[..]), ignore_index: Some(-100) };
                        let wf = |k: usize| if weighted { w[k] } else { 1.0 };
                        let sw: f64 = (0..n).map(wf).sum();
                        // loss = (1 − ε)·w_y·(m − x_y + ls) + ε/C·Σ w_k (m − x_k + ls)
                        let lt = |k: usize| (st.m - x[k]) + ls;
                        let want = (1.0 - eps) * wf(y) * lt(y) + eps / n as f64 * (0..n).map(|k| wf(k) * lt(k)).sum::<f64>();
                        let mag = (1.0 - eps) * wf(y) * ((st.m - x[y]).abs() + ls.abs())
                            + eps / n as f64 * (0..n).map(|k| wf(k) * ((st.m - x[k]).abs() + ls.abs())).sum::<f64>();
                        let (mut loss, mut lse1) = ([0.0f64; 2], [0.0f64; 2]);
                        let x2: Vec<f64> = x.iter().chain(&x).copied().collect();
                        let g2 = Geom::rows(2, n);
                        let labels = [y as i64, -100];
                        ce_sparse_fwd(&x2, g2, &labels, &p, &mut loss, &mut lse1, Par::Seq);
                        // `ln s` of an `s` near 1 is good to eps absolute
                        let lb = t * EPS * (mag + (1.0 - eps) * wf(y) + eps / n as f64 * sw);
                        assert!((loss[0] - want).abs() <= lb, "{what} eps={eps} w={weighted}: loss {} vs {want}", loss[0]);
                        assert!(loss[1] == 0.0 && lse1[0] == lse1[1], "{what}: ignored row");
                        let sc = 0.5;
                        let (mut loss2, mut lse2, mut grad) = ([0.0f64; 2], [0.0f64; 2], vec![0.0f64; 2 * n]);
                        ce_sparse_fwd_bwd(&x2, g2, &labels, &p, Scale::Uniform(sc), &mut loss2, &mut lse2, &mut grad, Par::Seq);
                        assert!((loss2[0] - want).abs() <= lb, "{what}: fused loss {} vs {want}", loss2[0]);
                        assert!(loss2[1] == 0.0 && grad[n..].iter().all(|&v| v == 0.0), "{what}: ignored row grad");
                        let a = sc * ((1.0 - eps) * wf(y) + eps / n as f64 * sw);
                        let b_all = sc * eps / n as f64;
                        let b_y = sc * (1.0 - eps) * wf(y);
                        for k in 0..n {
                            let pk = a * st.p(k);
                            let q = b_all * wf(k) + if k == y { b_y } else { 0.0 };
                            let want = pk - q;
                            // rows of ≥ CACHE_MIN classes reuse the forward's `exp(x − m)`: plus
                            // the rounding of `x − m`, as softmax
                            let dm = if n >= crate::kernels::CACHE_MIN { ulp(x[k] - st.m) / EPS } else { 0.0 };
                            let bound = t * (ulp(pk) + ulp(q) + ulp(want)) + dm * ulp(pk) + 1e-300;
                            assert!((grad[k] - want).abs() <= bound, "{what} eps={eps} w={weighted} k={k}: grad {} vs {want}", grad[k]);
                        }
                        let mut inplace = x2.clone();
                        let (mut loss3, mut lse3) = ([0.0f64; 2], [0.0f64; 2]);
                        ce_sparse_fwd_bwd_in_place(&mut inplace, g2, &labels, &p, Scale::Uniform(sc), &mut loss3, &mut lse3, Par::Seq);
                        assert_eq!(bits(&inplace), bits(&grad), "{what}: in place");
                        assert_eq!(bits(&loss3), bits(&loss2), "{what}: in place loss");
                        let mut grad2 = vec![1.0f64; 2 * n];
                        ce_sparse_bwd(&x2, g2, &labels, &p, &lse1, Scale::Uniform(sc), &mut grad2, Par::Seq);
                        for k in 0..n {
                            let pk = a * st.p(k);
                            let q = b_all * wf(k) + if k == y { b_y } else { 0.0 };
                            let want = pk - q;
                            // from the rounded lse: exp(x − lse) is off by |x − lse|·eps/2, and
                            // by ulp(lse)/2 absolute in the exponent
                            let bound = t * (ulp(pk) * (1.0 + (x[k] - l).abs() + ulp(l) / EPS) + ulp(q) + ulp(want)) + 1e-300;
                            assert!((grad2[k] - want).abs() <= bound, "{what} k={k}: bwd grad {} vs {want}", grad2[k]);
                        }
                    }
                }
            }
        });
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// NaN, infinite, or finite.
fn class(v: f64) -> u8 {
    if v.is_nan() {
        0
    } else if v == f64::INFINITY {
        1
    } else if v == f64::NEG_INFINITY {
        2
    } else {
        3
    }
}

/// `got` matches the scalar reference `want`: same class, and within `tol` relative
/// (plus a denormal-scale absolute slack) when finite.
fn same(got: f64, want: f64, tol: f64) -> bool {
    class(got) == class(want) && (class(got) != 3 || (got - want).abs() <= 1e-300 + tol * want.abs())
}

/// Rows with NaN, ±inf, all −inf, −inf entries (masks), huge and tiny values; several
/// longer than a block (2048) so a NaN can hide behind an all-`−inf` first block.
fn special_rows() -> Vec<(String, Vec<f64>)> {
    let mut rng = SplitMix64::new(5);
    let mut rows = Vec::new();
    for n in [1usize, 2, 3, 5, 7, 8, 9, 16, 17, 33, 100, 5000] {
        let base = row(&mut rng, n, 2.0, 0.0);
        for p in [0, n / 2, n - 1] {
            for (what, v) in [("nan", f64::NAN), ("+inf", f64::INFINITY), ("-inf", f64::NEG_INFINITY)] {
                let mut r = base.clone();
                r[p] = v;
                rows.push((format!("n={n} {what}@{p}"), r));
            }
        }
        let mut r = base.clone();
        for k in (0..n).step_by(3) {
            r[k] = f64::NEG_INFINITY;
        }
        if n > 1 {
            rows.push((format!("n={n} -inf every 3rd"), r));
        }
        rows.push((format!("n={n} all -inf"), vec![f64::NEG_INFINITY; n]));
        let mut r = vec![f64::NEG_INFINITY; n];
        r[n - 1] = f64::NAN;
        rows.push((format!("n={n} -inf and a nan"), r));
        let huge: Vec<f64> = (0..n).map(|k| [1.7e308, -1.7e308, 1e300, -1e300, 0.0, -0.0][k % 6]).collect();
        rows.push((format!("n={n} huge"), huge));
        let tiny: Vec<f64> = (0..n).map(|k| [1e-310, -5e-324, 1e-300, 0.0][k % 4]).collect();
        rows.push((format!("n={n} tiny"), tiny));
        let wide: Vec<f64> = (0..n).map(|k| [0.0, -700.0, -745.0, -746.0, -800.0][k % 5]).collect();
        rows.push((format!("n={n} underflowing"), wide));
    }
    for (what, v) in [("nan", f64::NAN), ("finite", 1.5), ("+inf", f64::INFINITY)] {
        let mut r = vec![f64::NEG_INFINITY; 6000];
        r[3000] = v;
        r[4500] = 0.25;
        rows.push((format!("all -inf block then {what}"), r));
    }
    rows
}

/// Per ISA, every forward kernel on every special row matches the scalar reference of
/// `scalar.rs` in kind (NaN / ±inf / finite) and closely in value; `−inf` entries of
/// a row with a finite max give exactly `+0` (softmax) and `−inf` (log-softmax).
#[test]
fn special_values_per_isa() {
    let rows = special_rows();
    for isa in isas() {
        with_isa(isa, || {
            for (name, x) in &rows {
                let n = x.len();
                let g = Geom::rows(1, n);
                let (mut want, mut got) = (vec![0.0f64; n], vec![0.0f64; n]);
                scalar::softmax_row(x, &mut want);
                softmax(x, g, &mut got, Par::Seq);
                let finite_max = x.iter().all(|v| !v.is_nan() && *v != f64::INFINITY) && x.iter().any(|v| v.is_finite());
                for k in 0..n {
                    assert!(same(got[k], want[k], 1e-13), "{isa:?} {name} softmax[{k}] {} vs {}", got[k], want[k]);
                    if finite_max && x[k] == f64::NEG_INFINITY {
                        assert!(got[k] == 0.0 && got[k].is_sign_positive(), "{isa:?} {name} softmax[{k}]");
                    }
                }
                scalar::log_softmax_row(x, &mut want);
                log_softmax(x, g, &mut got, Par::Seq);
                for k in 0..n {
                    assert!(same(got[k], want[k], 1e-13), "{isa:?} {name} log_softmax[{k}] {} vs {}", got[k], want[k]);
                    if finite_max && x[k] == f64::NEG_INFINITY {
                        assert_eq!(got[k], f64::NEG_INFINITY, "{isa:?} {name} log_softmax[{k}]");
                    }
                }
                let mut lse = [0.0f64];
                logsumexp(x, g, &mut lse, Par::Seq);
                let lref = scalar::logsumexp(x);
                assert!(same(lse[0], lref, 1e-15), "{isa:?} {name} lse {} vs {lref}", lse[0]);
                for y in [0, n / 2, n - 1] {
                    let p = SparseCe::default();
                    let (mut loss, mut l2, mut l3) = ([0.0f64], [0.0f64], [0.0f64]);
                    ce_sparse_fwd_bwd(x, g, &[y as i64], &p, Scale::Uniform(0.5), &mut loss, &mut l2, &mut got, Par::Seq);
                    let (mut loss1, mut l1) = ([0.0f64], [0.0f64]);
                    ce_sparse_fwd(x, g, &[y as i64], &p, &mut loss1, &mut l1, Par::Seq);
                    assert_eq!(class(loss[0]), class(lref - x[y]), "{isa:?} {name} y={y} loss {} vs {}", loss[0], lref - x[y]);
                    assert!(loss1[0].to_bits() == loss[0].to_bits() || (loss1[0].is_nan() && loss[0].is_nan()), "{isa:?} {name} y={y}");
                    assert!(same(l2[0], lref, 1e-15) && same(l1[0], lref, 1e-15), "{isa:?} {name} y={y} lse");
                    // kind from the scalar reference, value from the double-double one (the
                    // reference's `exp(x − lse)` loses `ln s` next to huge logits)
                    scalar::sparse_grad_row(x, &mut want, lref, 0.5, 0.0, None, Some(y), 0.5);
                    let st = finite_max.then(|| stats(x));
                    for k in 0..n {
                        assert_eq!(class(got[k]), class(want[k]), "{isa:?} {name} y={y} grad[{k}] {} vs {}", got[k], want[k]);
                        if let Some(st) = &st {
                            let g = 0.5 * st.p(k) - if k == y { 0.5 } else { 0.0 };
                            assert!((got[k] - g).abs() <= 1e-15, "{isa:?} {name} y={y} grad[{k}] {} vs {g}", got[k]);
                        }
                    }
                    let mut inplace = x.clone();
                    ce_sparse_fwd_bwd_in_place(&mut inplace, g, &[y as i64], &p, Scale::Uniform(0.5), &mut loss, &mut l3, Par::Seq);
                    assert_eq!(bits(&inplace), bits(&got), "{isa:?} {name} y={y}: in place");
                }
            }
        });
    }
}

/// Empty class axis and empty batches, per ISA: no panic, the scalar results.
#[test]
fn empty_rows_per_isa() {
    for isa in isas() {
        with_isa(isa, || {
            let g = Geom::rows(3, 0);
            let x: [f64; 0] = [];
            let mut out: [f64; 0] = [];
            softmax(&x, g, &mut out, Par::Seq);
            log_softmax(&x, g, &mut out, Par::Seq);
            let mut lse = [0.0f64; 3];
            logsumexp(&x, g, &mut lse, Par::Seq);
            assert!(lse.iter().all(|&v| v == f64::NEG_INFINITY), "{isa:?}: {lse:?}");
            softmax(&x, Geom::rows(0, 5), &mut out, Par::Seq);
        });
    }
}

/// Many rows over threads and the class axis not last (the tiled driver), per ISA:
/// identical to the same rows one by one.
#[test]
fn geometry_and_threads_per_isa() {
    let mut rng = SplitMix64::new(13);
    let (outer, c, inner) = (37, 301, 3);
    let x = row(&mut rng, outer * c * inner, 4.0, 0.0);
    for isa in isas() {
        with_isa(isa, || {
            let g = Geom { outer, classes: c, inner };
            let mut seq = vec![0.0f64; x.len()];
            let mut par = vec![0.0f64; x.len()];
            softmax(&x, g, &mut seq, Par::Seq);
            softmax(&x, g, &mut par, Par::Rayon(4));
            assert_eq!(bits(&seq), bits(&par), "{isa:?}");
            for o in 0..outer {
                for j in 0..inner {
                    let r: Vec<f64> = (0..c).map(|k| x[(o * c + k) * inner + j]).collect();
                    let mut want = vec![0.0f64; c];
                    softmax(&r, Geom::rows(1, c), &mut want, Par::Seq);
                    for k in 0..c {
                        assert_eq!(seq[(o * c + k) * inner + j].to_bits(), want[k].to_bits(), "{isa:?} o={o} j={j} k={k}");
                    }
                }
            }
        });
    }
}

/// Long rows split over threads (the wide-row path) agree with the unsplit row.
#[test]
fn wide_rows_per_isa() {
    let mut rng = SplitMix64::new(19);
    let c = crate::kernels::WIDE_MIN + 4099;
    let x = row(&mut rng, c, 5.0, 0.0);
    for isa in isas() {
        with_isa(isa, || {
            let g = Geom::rows(1, c);
            let (mut a, mut b) = (vec![0.0f64; c], vec![0.0f64; c]);
            softmax(&x, g, &mut a, Par::Seq);
            softmax(&x, g, &mut b, Par::Rayon(4));
            let t = tol(isa, c);
            for k in 0..c {
                assert!((a[k] - b[k]).abs() <= t * ulp(a[k]), "{isa:?} k={k}: {} vs {}", a[k], b[k]);
            }
            let p = SparseCe::default();
            let (mut l1, mut s1, mut l2, mut s2) = ([0.0f64], [0.0f64], [0.0f64], [0.0f64]);
            ce_sparse_fwd_bwd(&x, g, &[17], &p, Scale::Uniform(1.0), &mut l1, &mut s1, &mut a, Par::Seq);
            ce_sparse_fwd_bwd(&x, g, &[17], &p, Scale::Uniform(1.0), &mut l2, &mut s2, &mut b, Par::Rayon(4));
            assert!((l1[0] - l2[0]).abs() <= t * EPS * (l1[0].abs() + 1.0), "{isa:?}: {} vs {}", l1[0], l2[0]);
            for k in 0..c {
                assert!((a[k] - b[k]).abs() <= t * ulp(a[k]) + t * ulp(1.0) * f64::from(u8::from(k == 17)), "{isa:?} k={k}");
            }
        });
    }
}

/// The non-temporal store path writes exactly what the ordinary one writes, at every
/// misalignment (the row kernels' `nt` flag, called directly).
#[test]
fn nt_stores_match_per_isa() {
    let mut rng = SplitMix64::new(9);
    let x = row(&mut rng, 300, 3.0, 0.0);
    for isa in isas() {
        let k = f64::row_kernels(isa);
        for off in 0..8 {
            for n in [0usize, 1, 5, 8, 9, 33, 64, 250] {
                let xs = &x[off..off + n];
                let mut a = vec![0.0f64; n + 8];
                let mut b = vec![0.0f64; n + 8];
                (k.exp_scale)(xs, &mut a[off..off + n], 0.5, 0.25, Wr::nt(false));
                (k.exp_scale)(xs, &mut b[off..off + n], 0.5, 0.25, Wr::nt(true));
                assert_eq!(bits(&a), bits(&b), "{isa:?} off={off} n={n}");
                (k.copy)(xs, &mut b[off..off + n], true);
                assert_eq!(&b[off..off + n], xs, "{isa:?} off={off} n={n}");
            }
        }
    }
}

/// `exp((x − m) − l)` in double-double, both subtractions exact.
fn exp_shift_dd(x: f64, m: f64, l: f64) -> f64 {
    let d = dd_add(two_sum(x, -m), Dd(-l, 0.0));
    if d.0 <= -800.0 {
        return 0.0;
    }
    let (p, n) = exp_dd(d);
    scale2(p.0, n)
}

fn sum_dd(v: impl Iterator<Item = f64>) -> f64 {
    v.fold(Dd(0.0, 0.0), |a, b| dd_add(a, Dd(b, 0.0))).0
}

fn prod_dd(a: f64, b: f64) -> Dd {
    let p = a * b;
    Dd(p, a.mul_add(b, -p))
}

/// The backward rows and the dense cross-entropy kernels, per ISA (the table entries
/// called directly), against double-double references: `Σ x` (compensated) within
/// 2 ulps, dot products within `tol(n)·eps·Σ|a·b|`, the softmax VJP row bit for bit
/// its formula, a constant upstream giving `d / Σ y` equal to the constant, and the
/// log-softmax VJP and dense gradient within `tol(n)` ulps of each term.
#[test]
fn backward_rows_per_isa() {
    for isa in isas() {
        let k = f64::row_kernels(isa);
        let mut rng = SplitMix64::new(29);
        for n in lengths() {
            let x = row(&mut rng, n, 2.0, 0.0);
            let gy = row(&mut rng, n, 1.0, 0.0);
            let tt: Vec<f64> = (0..n).map(|_| rng.next_f64()).collect();
            let w: Vec<f64> = (0..n).map(|_| 0.5 + rng.next_f64()).collect();
            let t = tol(isa, n);
            let what = format!("{isa:?} n={n}");
            let mut big = gy.clone();
            big[0] = 1e17;
            for v in [&gy, &big] {
                let want = sum_dd(v.iter().copied());
                let got = (k.sum)(v);
                assert!((got - want).abs() <= 2.0 * ulp(want) + 1e-300, "{what}: sum {got} vs {want}");
            }
            let dot_ref = |a: &[f64], b: &[f64]| {
                let d = a.iter().zip(b).fold(Dd(0.0, 0.0), |s, (&u, &v)| dd_add(s, prod_dd(u, v)));
                (d.0, a.iter().zip(b).map(|(u, v)| (u * v).abs()).sum::<f64>())
            };
            let (want, mag) = dot_ref(&x, &gy);
            let got = (k.dot)(&x, &gy);
            assert!((got - want).abs() <= t * EPS * mag, "{what}: dot {got} vs {want}");
            // the softmax VJP
            let mut y = vec![0.0f64; n];
            softmax(&x, Geom::rows(1, n), &mut y, Par::Seq);
            let (d, sy) = (k.dot_sum)(&y, &gy);
            let (want, mag) = dot_ref(&y, &gy);
            assert!((d - want).abs() <= t * EPS * mag, "{what}: dot_sum {d} vs {want}");
            let want_sy = sum_dd(y.iter().copied());
            assert!((sy - want_sy).abs() <= t * EPS * want_sy, "{what}: Σ y {sy} vs {want_sy}");
            for c in [1.0f64, -4.0, 0.5] {
                let (dc, sc) = (k.dot_sum)(&y, &vec![c; n]);
                assert_eq!(dc / sc, c, "{what}: constant upstream {c}");
            }
            let mut out = vec![0.0f64; n];
            (k.softmax_bwd)(&y, &gy, &mut out, d / sy, false);
            for i in 0..n {
                assert_eq!(out[i].to_bits(), (y[i] * (gy[i] - d / sy)).to_bits(), "{what}: softmax_bwd[{i}]");
            }
            // the log-softmax VJP from the input, and from the output (m = ls = 0)
            let st = stats(&x);
            let (m, ls) = (st.m, st.ls());
            let tsum = (k.sum)(&gy);
            (k.log_softmax_bwd)(&x, &gy, &mut out, m, ls, tsum, false);
            for i in 0..n {
                let pt = exp_shift_dd(x[i], m, ls) * tsum;
                let want = gy[i] - pt;
                let bound = t * (ulp(gy[i]) + ulp(pt) + ulp(want));
                assert!((out[i] - want).abs() <= bound, "{what}: log_softmax_bwd[{i}] {} vs {want}", out[i]);
            }
            let ly: Vec<f64> = x.iter().map(|&v| (v - m) - ls).collect();
            (k.log_softmax_bwd)(&ly, &gy, &mut out, 0.0, 0.0, tsum, false);
            for i in 0..n {
                let pt = exp_shift_dd(ly[i], 0.0, 0.0) * tsum;
                let want = gy[i] - pt;
                let bound = t * (ulp(gy[i]) + ulp(pt) + ulp(want));
                assert!((out[i] - want).abs() <= bound, "{what}: log_softmax_bwd from y [{i}] {} vs {want}", out[i]);
            }
            // the dense cross-entropy, with and without weights
            for wo in [None, Some(&w[..])] {
                let wf = |i: usize| wo.map_or(1.0, |w| w[i]);
                let want = sum_dd((0..n).map(|i| wf(i) * tt[i] * (ls - (x[i] - m))));
                let mag: f64 = (0..n).map(|i| wf(i) * tt[i] * (ls.abs() + (x[i] - m).abs())).sum();
                let got = (k.dense_ce)(&x, &tt, wo, m, ls);
                assert!((got - want).abs() <= t * EPS * mag, "{what}: dense_ce {got} vs {want}");
                let (a, sc) = (1.25, 0.5);
                (k.dense_grad)(&x, &tt, wo, m, ls, a, sc, &mut out, false);
                for i in 0..n {
                    let pa = sc * a * exp_shift_dd(x[i], m, ls);
                    let q = sc * wf(i) * tt[i];
                    let want = pa - q;
                    let bound = t * (ulp(pa) + ulp(q) + ulp(want));
                    assert!((out[i] - want).abs() <= bound, "{what}: dense_grad[{i}] {} vs {want}", out[i]);
                }
            }
        }
    }
}

//! The `f64` SIMD layer: the vector trait [`Simd64`] (8 lanes on AVX-512, 4 on
//! AVX2+FMA), implemented on the same ISA tokens as the `f32` [`super::Simd`]
//! ([`super::avx512::Avx512`], [`super::avx2::Avx2`]), and the `f64` row kernels
//! written once against it ([`rows`]).
//!
//! A token proves the CPU supports its ISA (see [`super`]); the `f64` kernels are
//! inlined into the `#[target_feature]` entry points of [`crate::kernels::table_f64`].
//!
//! # exp
//! Cody–Waite range reduction (`C1 + C2 ≈ ln 2`, `C1` with 32 significant bits so
//! `k·C1` is exact; both steps fused multiply-adds, the first exact), then:
//!
//! * **AVX-512** (a table): `k = round(x·16·log₂e)`, as `k/16 = t − 1.5·2⁴⁸` with
//!   `t = x·log₂e + 1.5·2⁴⁸` (whose ulp is `1/16`; `k mod 16` is in the low mantissa
//!   bits of `t`), `r = x − (k/16)·ln 2`, `|r| ≤ ln2/32`, `j = k mod 16` and
//!   `2^(j/16) = T_hi[j] + T_lo[j]` from two 16-entry tables held in registers
//!   (`vpermt2pd`), `exp(r) − 1 ≈ s = r·(1 + r·q(r))` of degree 6 ([`EXP_TAB_POLY`]),
//!   `exp(x) = 2^⌊k/16⌋ · (T_hi + (T_hi·s + T_lo))`, the power of two applied by
//!   `vscalefpd` (which floors its exponent operand: `k/16` as it is). Five fewer
//!   multiplies and multiply-adds than the AVX2 form's usual path, and more accurate.
//! * **AVX2** (no 16-entry permute): `n = round(x·log₂e)`, `|r| ≤ ln2/2`, a
//!   degree-11 polynomial ([`EXP_POLY`]), `exp(r) ≈ 1 + r·(1 + r·q(r))`, and `2ⁿ`
//!   built as `2^⌊n/2⌋ · 2^(n − ⌊n/2⌋)` in the exponent field and multiplied twice.
//!
//! In both the only rounding into the subnormal range or to `inf` is the last one.
//! `x` is first clamped to `[−746, 710]`, with `max`/`min` operand order chosen so a
//! NaN input stays NaN: `exp(−inf) = 0`, `exp(+inf) = inf`, `exp(NaN) = NaN`, overflow
//! gives `inf` and underflow `0` or a subnormal, like `f64::exp`. Lanes below
//! [`EXP_ZERO`] are set to 0 by a mask, without computing the underflow (which costs
//! a microcode assist), so a `−inf` (mask) logit is as cheap as any other.
//!
//! Measured error (test `exp_f64_accuracy_per_isa`, against a double-double
//! reference exp, in ulps of the correctly rounded result, subnormal spacing
//! included): at most 0.78 ulp on AVX-512 (at `x ≈ −708.54`, a subnormal result:
//! two roundings) and 0.88 ulp on AVX2 (at `x ≈ 464.04`), over a dense sweep of
//! `[−745.2, 709.8]`, 100 000 random points in `[−1, 1]` and 20 000 consecutive
//! doubles at each of the overflow, underflow and subnormal thresholds; never more
//! than 1 ulp from `f64::exp` (glibc's, 0.51 ulp on the same points), and exactly
//! `f64::exp` on NaN, `±inf`, overflow and underflow to 0.
//!
//! # NaN and max
//! As the `f32` layer: `vmaxpd` returns its second operand when either is NaN, so
//! [`Simd64::max_keep`] ignores a NaN `x`, and NaN reaches the outputs through
//! `exp(NaN − m)` in the sum.

pub(crate) mod avx2;
pub(crate) mod avx512;
pub(crate) mod rows;

/// `ln 2` split for Cody–Waite: `C1` is `ln 2` truncated to 32 significant bits
/// (fdlibm's `ln2_hi`), so `n·C1` is exact for every `n` this exp sees;
/// `C1 + C2 = ln 2` to about `1.2e-26`.
pub(crate) const EXP_C1: f64 = 0.6931471803691238;
/// See [`EXP_C1`].
pub(crate) const EXP_C2: f64 = 1.9082149292705877e-10;
/// `log₂ e`.
pub(crate) const EXP_LOG2E: f64 = std::f64::consts::LOG2_E;
/// Coefficients `c11, …, c2` of `exp(r) ≈ 1 + r + c2·r² + … + c11·r¹¹`: a
/// relative-error minimax fit on `|r| ≤ ln2/2` with `c0 = c1 = 1` held exact
/// (Lawson's iteration in 40-digit arithmetic; max relative error 3.6e-18 before
/// rounding the coefficients to `f64`, 1.1e-17 (0.1 ulp) after).
pub(crate) const EXP_POLY: [f64; 10] = [
    2.50000742362808e-08,
    2.7630234467645177e-07,
    2.755758626291169e-06,
    2.4801493134552272e-05,
    0.000198412695067794,
    0.001388888894359938,
    0.008333333333494336,
    0.04166666666653026,
    0.16666666666666413,
    0.5000000000000011,
];
/// `2^(j/16)` rounded to `f64`, `j = 0..16`: the table of the AVX-512 exp.
pub(crate) const EXP_TAB_HI: [f64; 16] = [
    1.0,
    1.0442737824274138,
    1.0905077326652577,
    1.1387886347566916,
    1.189207115002721,
    1.241857812073484,
    1.2968395546510096,
    1.3542555469368927,
    std::f64::consts::SQRT_2,
    1.4768261459394993,
    1.5422108254079407,
    1.6104903319492543,
    1.681792830507429,
    1.7562521603732995,
    1.8340080864093424,
    1.9152065613971474,
];
/// `2^(j/16) − EXP_TAB_HI[j]` rounded to `f64` (50-digit arithmetic).
pub(crate) const EXP_TAB_LO: [f64; 16] = [
    0.0,
    8.551889705537965e-17,
    -3.046782079812471e-17,
    8.912812676025408e-17,
    3.982015231465646e-17,
    4.658027591836937e-17,
    2.5382502794888315e-17,
    7.70094837980299e-17,
    -9.667293313452913e-17,
    -3.483994556892796e-17,
    7.949834809697621e-17,
    2.4707192569797888e-17,
    8.199010020581497e-17,
    2.960140695448873e-17,
    3.283107224245627e-17,
    -1.0619946056195963e-16,
];
/// Coefficients `c6, …, c2` of `exp(r) ≈ 1 + r + c2·r² + … + c6·r⁶` on
/// `|r| ≤ ln2/32` (the table exp): relative-error minimax with `c0 = c1 = 1` held
/// exact (Lawson's iteration in 40-digit arithmetic; max relative error 1.2e-17,
/// 0.1 ulp, before and after rounding the coefficients).
pub(crate) const EXP_TAB_POLY: [f64; 5] =
    [0.0013888593745658368, 0.008333472060177597, 0.04166666669330476, 0.16666666664413438, 0.49999999999999606];
/// `1.5·2⁵²`: `t = x·c + SHIFTER` holds `round(x·c)` in its low mantissa bits.
pub(crate) const EXP_SHIFTER: f64 = 6755399441055744.0;
/// `1.5·2⁴⁸`, whose ulp is `1/16`: `t = x·log₂e + SHIFTER` holds `k/16 = t − SHIFTER`,
/// `k = round(16·x·log₂e)`, and `k mod 16` in the low 4 bits of `t` (the AVX-512 table
/// index; `vscalefpd` by `k/16` scales by `2^⌊k/16⌋`, with no multiply by `1/16`).
pub(crate) const EXP_TAB_SHIFTER: f64 = 422212465065984.0;

/// Below this `exp` is 0 in `f64` (`e^−746 < 2^−1075`).
pub(crate) const EXP_LO: f64 = -746.0;
/// The largest `f64` below `ln 2^−1075`: from here down `exp` rounds to 0. These
/// lanes are zeroed without computing the underflow.
pub(crate) const EXP_ZERO: f64 = -745.1332191019412;
/// Above this `exp` is `inf` in `f64` (`e^710 > f64::MAX`).
pub(crate) const EXP_HI: f64 = 710.0;

/// A vector ISA for `f64` arithmetic. Every method is `#[inline(always)]`: the body
/// must end up inside a function compiled with the ISA's target features.
pub(crate) trait Simd64: Copy + Send + Sync + 'static {
    /// `f64` lanes per vector.
    const N: usize;
    /// Alignment in bytes that [`Simd64::stream`] needs: one vector.
    const ALIGN: usize;
    /// A vector of `N` `f64`.
    type V: Copy;

    /// Every lane `x`.
    fn splat(self, x: f64) -> Self::V;
    /// `a + b`.
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a − b`.
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a · b`.
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a · b + c`, rounded once.
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// `c − a · b`, rounded once.
    fn neg_mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// Lane-wise `max(acc, x)`, keeping `acc` where `x` is NaN.
    fn max_keep(self, acc: Self::V, x: Self::V) -> Self::V;
    /// `x` clamped to `[lo, hi]`, NaN lanes kept NaN.
    fn clamp(self, x: Self::V, lo: Self::V, hi: Self::V) -> Self::V;
    /// Lane-wise `eˣ` (see the module docs).
    #[inline(always)]
    fn exp(self, x: Self::V) -> Self::V {
        self.exp_nonpos(self.clamp(x, self.splat(EXP_LO), self.splat(EXP_HI)))
    }
    /// [`Simd64::exp`] for `x ≤ 0`, `−inf` or NaN only (the `x − max` of a softmax):
    /// no clamping (a `−inf` or hugely negative lane is zeroed by the underflow mask).
    /// A positive `x` may give a wrong result.
    fn exp_nonpos(self, x: Self::V) -> Self::V;
    /// Sum of the lanes.
    fn reduce_add(self, v: Self::V) -> f64;
    /// Max of the lanes (the lanes hold no NaN where this is used).
    fn reduce_max(self, v: Self::V) -> f64;
    /// Whether any lane is NaN.
    fn any_nan(self, v: Self::V) -> bool;
    /// `v` where `keep ≠ 0`, `+0` elsewhere (NaN in `v` included).
    fn keep_where(self, keep: Self::V, v: Self::V) -> Self::V;
    /// Order earlier non-temporal stores before later stores (`sfence`).
    fn sfence(self);
    /// Hint that the cache line holding `p` will be read soon. Never faults.
    fn prefetch(self, p: *const u8);
    /// [`Simd64::prefetch`] into L2 only.
    fn prefetch_l2(self, p: *const u8);
    /// `N` elements from `p`.
    ///
    /// # Safety
    /// `p..p+N` readable.
    unsafe fn load(self, p: *const f64) -> Self::V;
    /// `n < N` elements from `p`, lanes `n..` set from `fill`.
    ///
    /// # Safety
    /// `p..p+n` readable; `n < N`.
    unsafe fn load_part(self, p: *const f64, n: usize, fill: Self::V) -> Self::V;
    /// Store `N` lanes at `p`.
    ///
    /// # Safety
    /// `p..p+N` writable.
    unsafe fn store(self, p: *mut f64, v: Self::V);
    /// Store the first `n < N` lanes at `p`.
    ///
    /// # Safety
    /// `p..p+n` writable; `n < N`.
    unsafe fn store_part(self, p: *mut f64, n: usize, v: Self::V);
    /// Non-temporal store of `N` lanes at `p`.
    ///
    /// # Safety
    /// `p..p+N` writable and `p` aligned to [`Simd64::ALIGN`].
    unsafe fn stream(self, p: *mut f64, v: Self::V);
}

/// Load `len ≤ N` elements of `x` at `i` (lanes `len..` from `fill`).
///
/// # Panics
/// If `i + len > x.len()` or `len > N`.
#[inline(always)]
pub(crate) fn ld<S: Simd64>(s: S, x: &[f64], i: usize, len: usize, fill: S::V) -> S::V {
    assert!(len <= S::N && i <= x.len() && len <= x.len() - i);
    // SAFETY: bounds asserted above.
    unsafe { ldu(s, x, i, len, fill) }
}

/// [`ld`] without the bounds check, for loops whose condition already bounds `i`.
///
/// # Safety
/// `i + len ≤ x.len()` and `len ≤ N`.
#[inline(always)]
pub(crate) unsafe fn ldu<S: Simd64>(s: S, x: &[f64], i: usize, len: usize, fill: S::V) -> S::V {
    debug_assert!(len <= S::N && i + len <= x.len());
    if len == S::N {
        // SAFETY: `x[i..i + N]` is in bounds (caller).
        unsafe { s.load(x.as_ptr().add(i)) }
    } else {
        // SAFETY: `x[i..i + len]` is in bounds and `len < N` (caller).
        unsafe { s.load_part(x.as_ptr().add(i), len, fill) }
    }
}

/// Store the first `len ≤ N` lanes of `v` into `out` at `i`.
///
/// # Panics
/// If `i + len > out.len()` or `len > N`.
#[inline(always)]
pub(crate) fn st<S: Simd64>(s: S, out: &mut [f64], i: usize, len: usize, v: S::V) {
    assert!(len <= S::N && i <= out.len() && len <= out.len() - i);
    // SAFETY: bounds asserted above.
    unsafe { stu(s, out, i, len, v) }
}

/// [`st`] without the bounds check.
///
/// # Safety
/// `i + len ≤ out.len()` and `len ≤ N`.
#[inline(always)]
pub(crate) unsafe fn stu<S: Simd64>(s: S, out: &mut [f64], i: usize, len: usize, v: S::V) {
    debug_assert!(len <= S::N && i + len <= out.len());
    if len == S::N {
        // SAFETY: `out[i..i + N]` is in bounds (caller).
        unsafe { s.store(out.as_mut_ptr().add(i), v) }
    } else {
        // SAFETY: `out[i..i + len]` is in bounds and `len < N` (caller).
        unsafe { s.store_part(out.as_mut_ptr().add(i), len, v) }
    }
}

/// Non-temporal store of `N` lanes into `out` at `i`.
///
/// # Safety
/// `i + N ≤ out.len()` and `out[i..]` aligned to [`Simd64::ALIGN`].
#[inline(always)]
pub(crate) unsafe fn st_ntu<S: Simd64>(s: S, out: &mut [f64], i: usize, v: S::V) {
    debug_assert!(i + S::N <= out.len());
    // SAFETY: in bounds (caller).
    let p = unsafe { out.as_mut_ptr().add(i) };
    debug_assert!((p as usize).is_multiple_of(S::ALIGN));
    // SAFETY: `p..p + N` is in bounds and aligned (caller).
    unsafe { s.stream(p, v) }
}

/// Elements before the first [`Simd64::ALIGN`]-aligned address of `out` (at most
/// `len`; all of it when an element straddles the boundary, which an `f64` slice
/// never does).
#[inline(always)]
pub(crate) fn head_len<S: Simd64>(out: &[f64]) -> usize {
    let addr = out.as_ptr() as usize;
    let mis = addr % S::ALIGN;
    if mis == 0 {
        return 0;
    }
    if !mis.is_multiple_of(size_of::<f64>()) {
        return out.len();
    }
    ((S::ALIGN - mis) / size_of::<f64>()).min(out.len())
}

#[cfg(test)]
mod tests;

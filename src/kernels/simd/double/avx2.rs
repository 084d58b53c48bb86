//! AVX2 + FMA implementation of [`Simd64`]: 4 `f64` lanes, `vmaskmovpd` tails,
//! `exp` scaled through the exponent field: in one step when no live lane can round
//! to a subnormal (the common case of a softmax), else in two halves.

#![cfg(target_arch = "x86_64")]

use core::arch::x86_64::*;

use super::super::avx2::Avx2;
use super::{Simd64, EXP_C1, EXP_C2, EXP_HI, EXP_LO, EXP_LOG2E, EXP_POLY, EXP_SHIFTER, EXP_ZERO};

/// `[-1; 4]` then `[0; 4]`: `MASKS[4 - n..][..4]` enables the first `n` lanes.
static MASKS: [i64; 8] = [-1, -1, -1, -1, 0, 0, 0, 0];

#[inline(always)]
fn mask(_: Avx2, n: usize) -> __m256i {
    let m = &MASKS[4 - n..][..4];
    // SAFETY: token ⇒ AVX; `m` holds 4 readable `i64`.
    unsafe { _mm256_loadu_si256(m.as_ptr().cast()) }
}

/// `2^k` for integral `k ∈ [−1022, 1023]` held in an `f64` lane: `k + (2⁵² + 1023)`
/// puts `k + 1023` in the low mantissa bits, which a shift moves into the exponent.
#[inline(always)]
fn pow2(_: Avx2, k: __m256d) -> __m256d {
    // SAFETY: token ⇒ AVX2.
    unsafe {
        let b = _mm256_add_pd(k, _mm256_set1_pd(4503599627370496.0 + 1023.0));
        _mm256_castsi256_pd(_mm256_slli_epi64::<52>(_mm256_castpd_si256(b)))
    }
}

/// The reduction and polynomial of `exp`: `(t, p, live)` with `n = round(x·log₂e)` in
/// the low mantissa bits of `t = x·log₂e + 1.5·2⁵²`, `p ≈ exp(x − n·ln 2)`, and
/// `live` the lanes not below [`EXP_ZERO`] (NaN included), all ones.
#[inline(always)]
fn exp_core(_: Avx2, x: __m256d) -> (__m256d, __m256d, __m256d) {
    // SAFETY: token ⇒ AVX2 + FMA.
    unsafe {
        let sh = _mm256_set1_pd(EXP_SHIFTER);
        let t = _mm256_fmadd_pd(x, _mm256_set1_pd(EXP_LOG2E), sh);
        let n = _mm256_sub_pd(t, sh);
        let r = _mm256_fnmadd_pd(n, _mm256_set1_pd(EXP_C1), x);
        let r = _mm256_fnmadd_pd(n, _mm256_set1_pd(EXP_C2), r);
        let mut p = _mm256_set1_pd(EXP_POLY[0]);
        for &c in &EXP_POLY[1..] {
            p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(c));
        }
        let one = _mm256_set1_pd(1.0);
        p = _mm256_fmadd_pd(p, r, one);
        p = _mm256_fmadd_pd(p, r, one);
        // NaN compares "not less than": it stays live
        (t, p, _mm256_cmp_pd::<_CMP_NLT_UQ>(x, _mm256_set1_pd(EXP_ZERO)))
    }
}

/// `p·2ⁿ` (`n` from [`exp_core`]'s `t`) for `x ∈ [EXP_LO, EXP_HI]`, dead lanes 0.
#[inline(always)]
fn scale_split(s: Avx2, t: __m256d, p: __m256d, live: __m256d) -> __m256d {
    // SAFETY: token ⇒ AVX2.
    unsafe {
        // dead lanes scale by 2^0 (no underflow) and are zeroed below
        let n = _mm256_and_pd(_mm256_sub_pd(t, _mm256_set1_pd(EXP_SHIFTER)), live);
        // live lanes have n ∈ [−1075, 1024]: 2ⁿ = 2^n1 · 2^n2 with both halves in
        // the normal range, so p·2^n1 is exact and the second product rounds once
        // (to a subnormal, or to inf).
        let n1 = _mm256_floor_pd(_mm256_mul_pd(n, _mm256_set1_pd(0.5)));
        let n2 = _mm256_sub_pd(n, n1);
        // A NaN `x` gives a NaN `p`; whatever garbage the factors hold, the product stays NaN.
        _mm256_and_pd(_mm256_mul_pd(_mm256_mul_pd(p, pow2(s, n1)), pow2(s, n2)), live)
    }
}

// Every `unsafe` block below calls AVX/AVX2/FMA intrinsics, whose only requirement is
// that the CPU supports them: an `Avx2` token exists only then (see
// `Avx2::new_unchecked`). Blocks that also dereference pointers say so.
impl Simd64 for Avx2 {
    const N: usize = 4;
    const ALIGN: usize = 32;
    type V = __m256d;

    #[inline(always)]
    fn splat(self, x: f64) -> __m256d {
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_set1_pd(x) }
    }
    #[inline(always)]
    fn add(self, a: __m256d, b: __m256d) -> __m256d {
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_add_pd(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m256d, b: __m256d) -> __m256d {
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_sub_pd(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m256d, b: __m256d) -> __m256d {
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_mul_pd(a, b) }
    }
    #[inline(always)]
    fn mul_add(self, a: __m256d, b: __m256d, c: __m256d) -> __m256d {
        // SAFETY: token ⇒ FMA.
        unsafe { _mm256_fmadd_pd(a, b, c) }
    }
    #[inline(always)]
    fn neg_mul_add(self, a: __m256d, b: __m256d, c: __m256d) -> __m256d {
        // SAFETY: token ⇒ FMA.
        unsafe { _mm256_fnmadd_pd(a, b, c) }
    }
    #[inline(always)]
    fn max_keep(self, acc: __m256d, x: __m256d) -> __m256d {
        // vmaxpd returns its second operand when either is NaN: a NaN `x` keeps `acc`.
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_max_pd(x, acc) }
    }
    #[inline(always)]
    fn clamp(self, x: __m256d, lo: __m256d, hi: __m256d) -> __m256d {
        // `x` second: a NaN `x` is returned unchanged by both.
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_min_pd(hi, _mm256_max_pd(lo, x)) }
    }
    #[inline(always)]
    fn exp(self, x: __m256d) -> __m256d {
        let x = self.clamp(x, self.splat(EXP_LO), self.splat(EXP_HI));
        let (t, p, live) = exp_core(self, x);
        scale_split(self, t, p, live)
    }
    #[inline(always)]
    fn exp_nonpos(self, x: __m256d) -> __m256d {
        let (t, p, live) = exp_core(self, x);
        // SAFETY: token ⇒ AVX2.
        unsafe {
            // Live lanes below −708 may round to a subnormal: the two-step scaling. Else
            // every live lane has n ∈ [−1021, 0] and 2ⁿ is one exponent field.
            let low = _mm256_and_pd(_mm256_cmp_pd::<_CMP_LT_OQ>(x, _mm256_set1_pd(-708.0)), live);
            if _mm256_testz_pd(low, low) == 0 {
                return scale_split(self, t, p, live);
            }
            // `t`'s low bits hold n; n + 1023 shifted into the exponent field. A dead lane's
            // garbage factor (zero mantissa: ±0, a normal number or ±inf, never a
            // subnormal) is masked to 0.
            let f = _mm256_slli_epi64::<52>(_mm256_add_epi64(_mm256_castpd_si256(t), _mm256_set1_epi64x(1023)));
            _mm256_and_pd(_mm256_mul_pd(p, _mm256_castsi256_pd(f)), live)
        }
    }
    #[inline(always)]
    fn reduce_add(self, v: __m256d) -> f64 {
        // SAFETY: token ⇒ AVX.
        unsafe {
            let s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
            _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)))
        }
    }
    #[inline(always)]
    fn reduce_max(self, v: __m256d) -> f64 {
        // SAFETY: token ⇒ AVX.
        unsafe {
            let s = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd::<1>(v));
            _mm_cvtsd_f64(_mm_max_sd(s, _mm_unpackhi_pd(s, s)))
        }
    }
    #[inline(always)]
    fn any_nan(self, v: __m256d) -> bool {
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_movemask_pd(_mm256_cmp_pd::<_CMP_UNORD_Q>(v, v)) != 0 }
    }
    #[inline(always)]
    fn keep_where(self, keep: __m256d, v: __m256d) -> __m256d {
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_and_pd(_mm256_cmp_pd::<_CMP_NEQ_UQ>(keep, _mm256_setzero_pd()), v) }
    }
    #[inline(always)]
    fn sfence(self) {
        // SAFETY: token ⇒ SSE.
        unsafe { _mm_sfence() }
    }
    #[inline(always)]
    fn prefetch(self, p: *const u8) {
        // SAFETY: a prefetch is a hint; it never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
    }
    #[inline(always)]
    fn prefetch_l2(self, p: *const u8) {
        // SAFETY: a prefetch is a hint; it never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T1>(p.cast()) }
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f64) -> __m256d {
        // SAFETY: token ⇒ AVX; the caller guarantees 4 readable doubles.
        unsafe { _mm256_loadu_pd(p) }
    }
    #[inline(always)]
    unsafe fn load_part(self, p: *const f64, n: usize, fill: __m256d) -> __m256d {
        let m = mask(self, n);
        // SAFETY: token ⇒ AVX; masked-off lanes are not accessed, the caller
        // guarantees the first `n` are readable.
        unsafe { _mm256_blendv_pd(fill, _mm256_maskload_pd(p, m), _mm256_castsi256_pd(m)) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64, v: __m256d) {
        // SAFETY: token ⇒ AVX; the caller guarantees 4 writable doubles.
        unsafe { _mm256_storeu_pd(p, v) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut f64, n: usize, v: __m256d) {
        // SAFETY: token ⇒ AVX; only the first `n` lanes are written, and the caller
        // guarantees they are writable.
        unsafe { _mm256_maskstore_pd(p, mask(self, n), v) }
    }
    #[inline(always)]
    unsafe fn stream(self, p: *mut f64, v: __m256d) {
        // SAFETY: token ⇒ AVX; the caller guarantees 32 writable, 32-byte-aligned bytes.
        unsafe { _mm256_stream_pd(p, v) }
    }
}

//! AVX2 + FMA implementation of [`Simd64`]: 4 `f64` lanes, `vmaskmovpd` tails,
//! `exp` scaled through the exponent field in two halves.

#![cfg(target_arch = "x86_64")]

use core::arch::x86_64::*;

use super::super::avx2::Avx2;
use super::{Simd64, EXP_C1, EXP_C2, EXP_LOG2E, EXP_POLY, EXP_ZERO};

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
    fn exp_nonpos(self, x: __m256d) -> __m256d {
        // SAFETY: token ⇒ AVX2 + FMA.
        unsafe {
            let n = _mm256_round_pd::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_pd(x, _mm256_set1_pd(EXP_LOG2E)));
            let r = _mm256_fnmadd_pd(n, _mm256_set1_pd(EXP_C1), x);
            let r = _mm256_fnmadd_pd(n, _mm256_set1_pd(EXP_C2), r);
            let mut p = _mm256_set1_pd(EXP_POLY[0]);
            for &c in &EXP_POLY[1..] {
                p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(c));
            }
            let one = _mm256_set1_pd(1.0);
            p = _mm256_fmadd_pd(p, r, one);
            p = _mm256_fmadd_pd(p, r, one);
            // lanes that round to 0 scale by 2^0 (no underflow) and are zeroed below
            // (NaN compares "not less than": it stays live)
            let live = _mm256_cmp_pd::<_CMP_NLT_UQ>(x, _mm256_set1_pd(EXP_ZERO));
            let n = _mm256_and_pd(n, live);
            // live lanes have n ∈ [−1075, 1024]: 2ⁿ = 2^n1 · 2^n2 with both halves in
            // the normal range, so p·2^n1 is exact and the second product rounds once
            // (to a subnormal, or to inf).
            let n1 = _mm256_floor_pd(_mm256_mul_pd(n, _mm256_set1_pd(0.5)));
            let n2 = _mm256_sub_pd(n, n1);
            // A NaN `x` gives a NaN `p`; whatever garbage the factors hold, the product stays NaN.
            _mm256_and_pd(_mm256_mul_pd(_mm256_mul_pd(p, pow2(self, n1)), pow2(self, n2)), live)
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

//! AVX-512 (F) implementation of [`Simd64`]: 8 `f64` lanes, masked tails, a
//! table-driven `exp` (16 entries in registers, `vpermt2pd`) scaled by `vscalefpd`.

#![cfg(target_arch = "x86_64")]

use core::arch::x86_64::*;

use super::super::avx512::Avx512;
use super::{Simd64, EXP_C1, EXP_C2, EXP_LOG2E, EXP_TAB_HI, EXP_TAB_LO, EXP_TAB_POLY, EXP_TAB_SHIFTER, EXP_ZERO};

#[inline(always)]
fn mask(n: usize) -> __mmask8 {
    ((1u32 << n) - 1) as __mmask8
}

// Every `unsafe` block below calls AVX-512F/SSE intrinsics, whose only requirement is
// that the CPU supports them: an `Avx512` token exists only then (see
// `Avx512::new_unchecked`). Blocks that also dereference pointers say so.
impl Simd64 for Avx512 {
    const N: usize = 8;
    const ALIGN: usize = 64;
    type V = __m512d;

    #[inline(always)]
    fn splat(self, x: f64) -> __m512d {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_set1_pd(x) }
    }
    #[inline(always)]
    fn add(self, a: __m512d, b: __m512d) -> __m512d {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_add_pd(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m512d, b: __m512d) -> __m512d {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_sub_pd(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m512d, b: __m512d) -> __m512d {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_mul_pd(a, b) }
    }
    #[inline(always)]
    fn mul_add(self, a: __m512d, b: __m512d, c: __m512d) -> __m512d {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_fmadd_pd(a, b, c) }
    }
    #[inline(always)]
    fn neg_mul_add(self, a: __m512d, b: __m512d, c: __m512d) -> __m512d {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_fnmadd_pd(a, b, c) }
    }
    #[inline(always)]
    fn max_keep(self, acc: __m512d, x: __m512d) -> __m512d {
        // vmaxpd returns its second operand when either is NaN: a NaN `x` keeps `acc`.
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_max_pd(x, acc) }
    }
    #[inline(always)]
    fn clamp(self, x: __m512d, lo: __m512d, hi: __m512d) -> __m512d {
        // `x` second: a NaN `x` is returned unchanged by both.
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_min_pd(hi, _mm512_max_pd(lo, x)) }
    }
    #[inline(always)]
    fn exp_nonpos(self, x: __m512d) -> __m512d {
        // SAFETY: token ⇒ AVX-512F; the tables are 16 readable doubles each.
        unsafe {
            // k/16 = round(x·16/ln2)/16 as `t − sh`, k mod 16 in the low 4 bits of `t`
            // (|x·log2 e| < 2^47 for every live lane; dead lanes hold garbage and are
            // masked off below)
            let sh = _mm512_set1_pd(EXP_TAB_SHIFTER);
            let t = _mm512_fmadd_pd(x, _mm512_set1_pd(EXP_LOG2E), sh);
            let k = _mm512_sub_pd(t, sh);
            let r = _mm512_fnmadd_pd(k, _mm512_set1_pd(EXP_C1), x);
            let r = _mm512_fnmadd_pd(k, _mm512_set1_pd(EXP_C2), r);
            let mut q = _mm512_set1_pd(EXP_TAB_POLY[0]);
            for &c in &EXP_TAB_POLY[1..] {
                q = _mm512_fmadd_pd(q, r, _mm512_set1_pd(c));
            }
            let s = _mm512_mul_pd(_mm512_fmadd_pd(q, r, _mm512_set1_pd(1.0)), r);
            // vpermt2pd reads the low 4 bits of each index lane: j = k mod 16
            let j = _mm512_castpd_si512(t);
            let hi = _mm512_permutex2var_pd(_mm512_loadu_pd(EXP_TAB_HI.as_ptr()), j, _mm512_loadu_pd(EXP_TAB_HI.as_ptr().add(8)));
            let lo = _mm512_permutex2var_pd(_mm512_loadu_pd(EXP_TAB_LO.as_ptr()), j, _mm512_loadu_pd(EXP_TAB_LO.as_ptr().add(8)));
            let v = _mm512_add_pd(hi, _mm512_fmadd_pd(hi, s, lo));
            // lanes that round to 0 (and −inf, whose `r` is NaN) are zeroed by the mask,
            // so they never underflow; NaN compares "not less than": it stays in.
            // vscalefpd multiplies by 2^⌊k/16⌋.
            let live = _mm512_cmp_pd_mask::<_CMP_NLT_UQ>(x, _mm512_set1_pd(EXP_ZERO));
            _mm512_maskz_scalef_pd(live, v, k)
        }
    }
    #[inline(always)]
    fn reduce_add(self, v: __m512d) -> f64 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_reduce_add_pd(v) }
    }
    #[inline(always)]
    fn reduce_max(self, v: __m512d) -> f64 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_reduce_max_pd(v) }
    }
    #[inline(always)]
    fn any_nan(self, v: __m512d) -> bool {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_cmp_pd_mask::<_CMP_UNORD_Q>(v, v) != 0 }
    }
    #[inline(always)]
    fn keep_where(self, keep: __m512d, v: __m512d) -> __m512d {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_maskz_mov_pd(_mm512_cmp_pd_mask::<_CMP_NEQ_UQ>(keep, _mm512_setzero_pd()), v) }
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
    unsafe fn load(self, p: *const f64) -> __m512d {
        // SAFETY: token ⇒ AVX-512F; the caller guarantees 8 readable doubles.
        unsafe { _mm512_loadu_pd(p) }
    }
    #[inline(always)]
    unsafe fn load_part(self, p: *const f64, n: usize, fill: __m512d) -> __m512d {
        // SAFETY: token ⇒ AVX-512F; masked-off lanes are not accessed, the caller
        // guarantees the first `n` are readable.
        unsafe { _mm512_mask_loadu_pd(fill, mask(n), p) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64, v: __m512d) {
        // SAFETY: token ⇒ AVX-512F; the caller guarantees 8 writable doubles.
        unsafe { _mm512_storeu_pd(p, v) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut f64, n: usize, v: __m512d) {
        // SAFETY: token ⇒ AVX-512F; only the first `n` lanes are written, and the
        // caller guarantees they are writable.
        unsafe { _mm512_mask_storeu_pd(p, mask(n), v) }
    }
    #[inline(always)]
    unsafe fn stream(self, p: *mut f64, v: __m512d) {
        // SAFETY: token ⇒ AVX-512F; the caller guarantees 64 writable, 64-byte-aligned bytes.
        unsafe { _mm512_stream_pd(p, v) }
    }
}

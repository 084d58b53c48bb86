//! AVX-512 (F/BW/VL) implementation of [`Simd`]: 16 `f32` lanes, masked tails,
//! `vscalefps` in `exp`, `vgetexpps`/`vgetmantps` in `ln`.

#![cfg(target_arch = "x86_64")]

use core::arch::x86_64::*;

use half::{bf16, f16};

use super::{
    Io, Simd, EXP_C1, EXP_C2, EXP_HI, EXP_LO, EXP_LOG2E, EXP_TAB_HI, EXP_TAB_LO, EXP_TAB_POLY, EXP_TAB_SHIFTER, EXP_ZERO, LN_LN2, LN_POLY,
    LN_SQRT2,
};

/// Proof that the running code may use AVX-512 F/BW/VL, AVX2, FMA and F16C.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx512(());

impl Avx512 {
    /// Make the token.
    ///
    /// # Safety
    /// The CPU must support the features listed on [`Avx512`] (the kernel tables
    /// only call this inside functions compiled with them, reached after
    /// [`crate::kernels::Isa::is_available`]).
    #[inline(always)]
    pub(crate) unsafe fn new_unchecked() -> Avx512 {
        Avx512(())
    }
}

#[inline(always)]
fn mask(n: usize) -> __mmask16 {
    ((1u32 << n) - 1) as __mmask16
}

// Every `unsafe` block below calls AVX-512/AVX2/FMA/F16C intrinsics, whose only
// requirement is that the CPU supports them: an `Avx512` token exists only then
// (see `Avx512::new_unchecked`). Blocks that also dereference pointers say so.
impl Avx512 {
    /// The exp of `x ≤ 0` before its scaling: `(v, k)` with `e^x = v·2^⌊k⌋`,
    /// `v ∈ [1, 2)` (`k/16 = round(x·16/ln2)/16` as `t − sh`, `k mod 16` in the low 4
    /// bits of `t`; |x·log2 e| < 2^18 for every live lane, other lanes hold garbage
    /// that the callers mask off or never have).
    #[inline(always)]
    fn exp_parts(self, x: __m512) -> (__m512, __m512) {
        // SAFETY: token ⇒ AVX-512F; the tables are 16 readable floats each.
        unsafe {
            let sh = _mm512_set1_ps(EXP_TAB_SHIFTER);
            let t = _mm512_fmadd_ps(x, _mm512_set1_ps(EXP_LOG2E), sh);
            let k = _mm512_sub_ps(t, sh);
            let r = _mm512_fnmadd_ps(k, _mm512_set1_ps(EXP_C1), x);
            let r = _mm512_fnmadd_ps(k, _mm512_set1_ps(EXP_C2), r);
            // e^r − 1 ≈ s = r + r²·(c2 + c3·r)
            let q = _mm512_fmadd_ps(_mm512_set1_ps(EXP_TAB_POLY[0]), r, _mm512_set1_ps(EXP_TAB_POLY[1]));
            let s = _mm512_fmadd_ps(q, _mm512_mul_ps(r, r), r);
            // vpermps reads the low 4 bits of each index lane: j = k mod 16
            let j = _mm512_castps_si512(t);
            let hi = _mm512_permutexvar_ps(j, _mm512_loadu_ps(EXP_TAB_HI.as_ptr()));
            let lo = _mm512_permutexvar_ps(j, _mm512_loadu_ps(EXP_TAB_LO.as_ptr()));
            let v = _mm512_add_ps(hi, _mm512_fmadd_ps(hi, s, lo));
            (v, k)
        }
    }
}

impl Simd for Avx512 {
    const N: usize = 16;
    type V = __m512;
    type I = __m512i;

    #[inline(always)]
    fn splat(self, x: f32) -> __m512 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_set1_ps(x) }
    }
    #[inline(always)]
    fn add(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_add_ps(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_sub_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m512, b: __m512) -> __m512 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_mul_ps(a, b) }
    }
    #[inline(always)]
    fn mul_add(self, a: __m512, b: __m512, c: __m512) -> __m512 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn neg_mul_add(self, a: __m512, b: __m512, c: __m512) -> __m512 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_fnmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn max_keep(self, acc: __m512, x: __m512) -> __m512 {
        // vmaxps returns its second operand when either is NaN: a NaN `x` keeps `acc`.
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_max_ps(x, acc) }
    }
    #[inline(always)]
    fn min_keep(self, acc: __m512, x: __m512) -> __m512 {
        // vminps returns its second operand when either is NaN: a NaN `x` keeps `acc`.
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_min_ps(x, acc) }
    }
    #[inline(always)]
    fn clamp(self, x: __m512, lo: __m512, hi: __m512) -> __m512 {
        // `x` second: a NaN `x` is returned unchanged by both.
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_min_ps(hi, _mm512_max_ps(lo, x)) }
    }
    #[inline(always)]
    fn exp(self, x: __m512) -> __m512 {
        self.exp_nonpos(self.clamp(x, self.splat(EXP_LO), self.splat(EXP_HI)))
    }
    #[inline(always)]
    fn exp_nonpos(self, x: __m512) -> __m512 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe {
            let (v, k) = self.exp_parts(x);
            // lanes that round to 0 (and −inf, whose `r` is NaN) are zeroed by the mask,
            // so they never underflow; NaN compares "not less than": it stays in.
            // vscalefps multiplies by 2^⌊k/16⌋.
            let live = _mm512_cmp_ps_mask::<_CMP_NLT_UQ>(x, _mm512_set1_ps(EXP_ZERO));
            _mm512_maskz_scalef_ps(live, v, k)
        }
    }
    #[inline(always)]
    fn exp_live(self, x: __m512) -> __m512 {
        // `exp_nonpos` without the underflow mask (a compare and a masked vscalefps;
        // 5 % of the exp measured on AMD Zen 4): no lane of `x` lies below EXP_ZERO.
        // SAFETY: token ⇒ AVX-512F.
        unsafe {
            let (v, k) = self.exp_parts(x);
            _mm512_scalef_ps(v, k)
        }
    }
    #[inline(always)]
    fn ln(self, x: __m512) -> __m512 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe {
            let one = _mm512_set1_ps(1.0);
            let m = _mm512_getmant_ps::<_MM_MANT_NORM_1_2, _MM_MANT_SIGN_SRC>(x);
            let e = _mm512_getexp_ps(x);
            let big = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(m, _mm512_set1_ps(LN_SQRT2));
            let m = _mm512_mask_mul_ps(m, big, m, _mm512_set1_ps(0.5));
            let e = _mm512_mask_add_ps(e, big, e, one);
            let f = _mm512_sub_ps(m, one);
            let z = _mm512_mul_ps(f, f);
            let mut y = _mm512_set1_ps(LN_POLY[0]);
            for &c in &LN_POLY[1..] {
                y = _mm512_fmadd_ps(y, f, _mm512_set1_ps(c));
            }
            y = _mm512_mul_ps(_mm512_mul_ps(y, f), z);
            y = _mm512_fnmadd_ps(_mm512_set1_ps(0.5), z, y);
            let r = _mm512_add_ps(f, y);
            _mm512_fmadd_ps(e, _mm512_set1_ps(LN_LN2), r)
        }
    }
    #[inline(always)]
    fn reduce_add(self, v: __m512) -> f32 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_reduce_add_ps(v) }
    }
    #[inline(always)]
    fn reduce_max(self, v: __m512) -> f32 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_reduce_max_ps(v) }
    }
    #[inline(always)]
    fn any_nan(self, v: __m512) -> bool {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v) != 0 }
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
    fn permute(self, v: __m512, idx: __m512i) -> __m512 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_permutexvar_ps(idx, v) }
    }
    #[inline(always)]
    fn load_idx(self, idx: &[i32]) -> __m512i {
        assert!(idx.len() >= 16);
        // SAFETY: token ⇒ AVX-512F; `idx[..16]` is readable (asserted).
        unsafe { _mm512_loadu_si512(idx.as_ptr().cast()) }
    }
    #[inline(always)]
    fn permute_i(self, v: __m512i, idx: __m512i) -> __m512i {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_permutexvar_epi32(idx, v) }
    }
    #[inline(always)]
    fn add_i(self, a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_add_epi32(a, b) }
    }
    #[inline(always)]
    fn sub_where_eq(self, v: __m512, a: __m512i, b: __m512i, d: __m512) -> __m512 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_mask_sub_ps(v, _mm512_cmpeq_epi32_mask(a, b), v, d) }
    }
    #[inline(always)]
    fn keep_where(self, keep: __m512, v: __m512) -> __m512 {
        // SAFETY: token ⇒ AVX-512F.
        unsafe { _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(keep, _mm512_setzero_ps()), v) }
    }
    #[inline(always)]
    unsafe fn gather(self, base: *const f32, idx: __m512i) -> __m512 {
        // SAFETY: token ⇒ AVX-512F; the caller keeps every `base + idx[k]` in bounds.
        unsafe { _mm512_i32gather_ps::<4>(idx, base) }
    }
}

impl Io<f32> for Avx512 {
    const ALIGN: usize = 64;
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m512 {
        // SAFETY: token ⇒ AVX-512F; the caller guarantees 16 readable floats.
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn load_part(self, p: *const f32, n: usize, fill: __m512) -> __m512 {
        // SAFETY: token ⇒ AVX-512F; masked-off lanes are not accessed, the caller
        // guarantees the first `n` are readable.
        unsafe { _mm512_mask_loadu_ps(fill, mask(n), p) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m512) {
        // SAFETY: token ⇒ AVX-512F; the caller guarantees 16 writable floats.
        unsafe { _mm512_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut f32, n: usize, v: __m512) {
        // SAFETY: token ⇒ AVX-512F; only the first `n` lanes are written, and the
        // caller guarantees they are writable.
        unsafe { _mm512_mask_storeu_ps(p, mask(n), v) }
    }
    #[inline(always)]
    unsafe fn stream(self, p: *mut f32, v: __m512) {
        // SAFETY: token ⇒ AVX-512F; the caller guarantees 64 writable, 64-byte-aligned bytes.
        unsafe { _mm512_stream_ps(p, v) }
    }
}

/// `f32` lanes → `bf16` bits (in the low 16 bits of each `i32` lane), rounding to
/// nearest-even like `half::bf16::from_f32`; NaN stays a quiet NaN.
#[inline(always)]
fn f32_to_bf16_bits(_: Avx512, v: __m512) -> __m256i {
    // SAFETY: token ⇒ AVX-512F.
    unsafe {
        let u = _mm512_castps_si512(v);
        let hi = _mm512_srli_epi32::<16>(u);
        let lsb = _mm512_and_si512(hi, _mm512_set1_epi32(1));
        let rounded = _mm512_srli_epi32::<16>(_mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7FFF)), lsb));
        let quiet = _mm512_or_si512(hi, _mm512_set1_epi32(0x40));
        let nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v);
        _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(nan, rounded, quiet))
    }
}

impl Io<bf16> for Avx512 {
    const ALIGN: usize = 32;
    #[inline(always)]
    unsafe fn load(self, p: *const bf16) -> __m512 {
        // SAFETY: token ⇒ AVX-512F; the caller guarantees 16 readable `bf16` (32 bytes).
        unsafe {
            let h = _mm256_loadu_si256(p.cast());
            _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(h)))
        }
    }
    #[inline(always)]
    unsafe fn load_part(self, p: *const bf16, n: usize, fill: __m512) -> __m512 {
        // SAFETY: token ⇒ AVX-512BW/VL; masked-off lanes are not accessed.
        unsafe {
            let h = _mm256_maskz_loadu_epi16(mask(n), p.cast());
            let v = _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(h)));
            _mm512_mask_blend_ps(mask(n), fill, v)
        }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut bf16, v: __m512) {
        // SAFETY: token ⇒ AVX; the caller guarantees 32 writable bytes.
        unsafe { _mm256_storeu_si256(p.cast(), f32_to_bf16_bits(self, v)) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut bf16, n: usize, v: __m512) {
        // SAFETY: token ⇒ AVX-512BW/VL; only the first `n` elements are written.
        unsafe { _mm256_mask_storeu_epi16(p.cast(), mask(n), f32_to_bf16_bits(self, v)) }
    }
    #[inline(always)]
    unsafe fn stream(self, p: *mut bf16, v: __m512) {
        // SAFETY: token ⇒ AVX; the caller guarantees 32 writable, 32-byte-aligned bytes.
        unsafe { _mm256_stream_si256(p.cast(), f32_to_bf16_bits(self, v)) }
    }
}

/// `f32` lanes → IEEE half bits, round to nearest-even (`vcvtps2ph`).
#[inline(always)]
fn f32_to_f16_bits(_: Avx512, v: __m512) -> __m256i {
    // SAFETY: token ⇒ AVX-512F.
    unsafe { _mm512_cvtps_ph::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(v) }
}

impl Io<f16> for Avx512 {
    const ALIGN: usize = 32;
    #[inline(always)]
    unsafe fn load(self, p: *const f16) -> __m512 {
        // SAFETY: token ⇒ AVX-512F; the caller guarantees 16 readable `f16`.
        unsafe { _mm512_cvtph_ps(_mm256_loadu_si256(p.cast())) }
    }
    #[inline(always)]
    unsafe fn load_part(self, p: *const f16, n: usize, fill: __m512) -> __m512 {
        // SAFETY: token ⇒ AVX-512BW/VL; masked-off lanes are not accessed.
        unsafe {
            let v = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask(n), p.cast()));
            _mm512_mask_blend_ps(mask(n), fill, v)
        }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f16, v: __m512) {
        // SAFETY: token ⇒ AVX; the caller guarantees 32 writable bytes.
        unsafe { _mm256_storeu_si256(p.cast(), f32_to_f16_bits(self, v)) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut f16, n: usize, v: __m512) {
        // SAFETY: token ⇒ AVX-512BW/VL; only the first `n` elements are written.
        unsafe { _mm256_mask_storeu_epi16(p.cast(), mask(n), f32_to_f16_bits(self, v)) }
    }
    #[inline(always)]
    unsafe fn stream(self, p: *mut f16, v: __m512) {
        // SAFETY: token ⇒ AVX; the caller guarantees 32 writable, 32-byte-aligned bytes.
        unsafe { _mm256_stream_si256(p.cast(), f32_to_f16_bits(self, v)) }
    }
}

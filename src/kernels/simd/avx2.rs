//! AVX2 + FMA (+ F16C) implementation of [`Simd`]: 8 `f32` lanes, `vmaskmovps`
//! tails, `exp` scaled through the exponent field in two halves.

#![cfg(target_arch = "x86_64")]

use core::arch::x86_64::*;

use half::{bf16, f16};

use super::{Io, Simd, EXP_C1, EXP_C2, EXP_HI, EXP_LO, EXP_LOG2E, EXP_POLY, EXP_ZERO, LN_LN2, LN_POLY, LN_SQRT2};

/// Proof that the running code may use AVX2, FMA and F16C.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2(());

impl Avx2 {
    /// Make the token.
    ///
    /// # Safety
    /// The CPU must support AVX2, FMA and F16C (the kernel tables only call this
    /// inside functions compiled with them, reached after
    /// [`crate::kernels::Isa::is_available`]).
    #[inline(always)]
    pub(crate) unsafe fn new_unchecked() -> Avx2 {
        Avx2(())
    }
}

/// `[-1; 8]` then `[0; 8]`: `MASKS[8 - n..][..8]` enables the first `n` lanes.
static MASKS: [i32; 16] = [-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0];

#[inline(always)]
fn mask(_: Avx2, n: usize) -> __m256i {
    let m = &MASKS[8 - n..][..8];
    // SAFETY: token ⇒ AVX; `m` holds 8 readable `i32`.
    unsafe { _mm256_loadu_si256(m.as_ptr().cast()) }
}

// Every `unsafe` block below calls AVX/AVX2/FMA/F16C intrinsics, whose only
// requirement is that the CPU supports them: an `Avx2` token exists only then
// (see `Avx2::new_unchecked`). Blocks that also dereference pointers say so.
impl Simd for Avx2 {
    const N: usize = 8;
    type V = __m256;
    type I = __m256i;

    #[inline(always)]
    fn splat(self, x: f32) -> __m256 {
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_set1_ps(x) }
    }
    #[inline(always)]
    fn add(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_add_ps(a, b) }
    }
    #[inline(always)]
    fn sub(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_sub_ps(a, b) }
    }
    #[inline(always)]
    fn mul(self, a: __m256, b: __m256) -> __m256 {
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_mul_ps(a, b) }
    }
    #[inline(always)]
    fn mul_add(self, a: __m256, b: __m256, c: __m256) -> __m256 {
        // SAFETY: token ⇒ FMA.
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn neg_mul_add(self, a: __m256, b: __m256, c: __m256) -> __m256 {
        // SAFETY: token ⇒ FMA.
        unsafe { _mm256_fnmadd_ps(a, b, c) }
    }
    #[inline(always)]
    fn max_keep(self, acc: __m256, x: __m256) -> __m256 {
        // vmaxps returns its second operand when either is NaN: a NaN `x` keeps `acc`.
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_max_ps(x, acc) }
    }
    #[inline(always)]
    fn min_keep(self, acc: __m256, x: __m256) -> __m256 {
        // vminps returns its second operand when either is NaN: a NaN `x` keeps `acc`.
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_min_ps(x, acc) }
    }
    #[inline(always)]
    fn clamp(self, x: __m256, lo: __m256, hi: __m256) -> __m256 {
        // `x` second: a NaN `x` is returned unchanged by both.
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_min_ps(hi, _mm256_max_ps(lo, x)) }
    }
    #[inline(always)]
    fn exp(self, x: __m256) -> __m256 {
        self.exp_nonpos(self.clamp(x, self.splat(EXP_LO), self.splat(EXP_HI)))
    }
    #[inline(always)]
    fn exp_nonpos(self, x: __m256) -> __m256 {
        // SAFETY: token ⇒ AVX2 + FMA.
        unsafe {
            let n = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(x, _mm256_set1_ps(EXP_LOG2E)));
            let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EXP_C1), x);
            let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(EXP_C2), r);
            let mut p = _mm256_set1_ps(EXP_POLY[0]);
            p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_POLY[1]));
            p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_POLY[2]));
            p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_POLY[3]));
            p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(EXP_POLY[4]));
            let one = _mm256_set1_ps(1.0);
            p = _mm256_fmadd_ps(p, r, one);
            p = _mm256_fmadd_ps(p, r, one);
            // lanes that round to 0 scale by 2^0 (no underflow) and are zeroed below
            // (NaN compares "not less than": it stays live)
            let live = _mm256_cmp_ps::<_CMP_NLT_UQ>(x, _mm256_set1_ps(EXP_ZERO));
            let ni = _mm256_and_si256(_mm256_cvtps_epi32(n), _mm256_castps_si256(live));
            // live lanes have n ∈ [−150, 129]: 2ⁿ = 2^n1 · 2^n2 with both halves in the
            // normal range, so p·2^n1 is exact and the second product rounds once (to a
            // subnormal, or to inf).
            let n1 = _mm256_srai_epi32::<1>(ni);
            let n2 = _mm256_sub_epi32(ni, n1);
            let bias = _mm256_set1_epi32(127);
            let f1 = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(n1, bias)));
            let f2 = _mm256_castsi256_ps(_mm256_slli_epi32::<23>(_mm256_add_epi32(n2, bias)));
            // A NaN `x` gives a NaN `p`; whatever garbage `f1`, `f2` hold, the product stays NaN.
            _mm256_and_ps(_mm256_mul_ps(_mm256_mul_ps(p, f1), f2), live)
        }
    }
    #[inline(always)]
    fn ln(self, x: __m256) -> __m256 {
        // SAFETY: token ⇒ AVX2 + FMA.
        unsafe {
            let one = _mm256_set1_ps(1.0);
            let bits = _mm256_castps_si256(x);
            let e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32::<23>(bits), _mm256_set1_epi32(127)));
            let m = _mm256_castsi256_ps(_mm256_or_si256(
                _mm256_and_si256(bits, _mm256_set1_epi32(0x007F_FFFF)),
                _mm256_set1_epi32(0x3F80_0000),
            ));
            let big = _mm256_cmp_ps::<_CMP_GT_OQ>(m, _mm256_set1_ps(LN_SQRT2));
            let m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5)), big);
            let e = _mm256_add_ps(e, _mm256_and_ps(big, one));
            let f = _mm256_sub_ps(m, one);
            let z = _mm256_mul_ps(f, f);
            let mut y = _mm256_set1_ps(LN_POLY[0]);
            for &c in &LN_POLY[1..] {
                y = _mm256_fmadd_ps(y, f, _mm256_set1_ps(c));
            }
            y = _mm256_mul_ps(_mm256_mul_ps(y, f), z);
            y = _mm256_fnmadd_ps(_mm256_set1_ps(0.5), z, y);
            let r = _mm256_fmadd_ps(e, _mm256_set1_ps(LN_LN2), _mm256_add_ps(f, y));
            _mm256_blendv_ps(r, x, _mm256_cmp_ps::<_CMP_UNORD_Q>(x, x))
        }
    }
    #[inline(always)]
    fn reduce_add(self, v: __m256) -> f32 {
        // SAFETY: token ⇒ AVX.
        unsafe {
            let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
            let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_add_ss(s, _mm_movehdup_ps(s));
            _mm_cvtss_f32(s)
        }
    }
    #[inline(always)]
    fn reduce_max(self, v: __m256) -> f32 {
        // SAFETY: token ⇒ AVX.
        unsafe {
            let s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
            let s = _mm_max_ps(s, _mm_movehl_ps(s, s));
            let s = _mm_max_ss(s, _mm_movehdup_ps(s));
            _mm_cvtss_f32(s)
        }
    }
    #[inline(always)]
    fn any_nan(self, v: __m256) -> bool {
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_UNORD_Q>(v, v)) != 0 }
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
    fn permute(self, v: __m256, idx: __m256i) -> __m256 {
        // SAFETY: token ⇒ AVX2.
        unsafe { _mm256_permutevar8x32_ps(v, idx) }
    }
    #[inline(always)]
    fn load_idx(self, idx: &[i32]) -> __m256i {
        assert!(idx.len() >= 8);
        // SAFETY: token ⇒ AVX; `idx[..8]` is readable (asserted).
        unsafe { _mm256_loadu_si256(idx.as_ptr().cast()) }
    }
    #[inline(always)]
    fn permute_i(self, v: __m256i, idx: __m256i) -> __m256i {
        // SAFETY: token ⇒ AVX2.
        unsafe { _mm256_permutevar8x32_epi32(v, idx) }
    }
    #[inline(always)]
    fn add_i(self, a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: token ⇒ AVX2.
        unsafe { _mm256_add_epi32(a, b) }
    }
    #[inline(always)]
    fn sub_where_eq(self, v: __m256, a: __m256i, b: __m256i, d: __m256) -> __m256 {
        // SAFETY: token ⇒ AVX2.
        unsafe {
            let eq = _mm256_castsi256_ps(_mm256_cmpeq_epi32(a, b));
            _mm256_sub_ps(v, _mm256_and_ps(eq, d))
        }
    }
    #[inline(always)]
    fn keep_where(self, keep: __m256, v: __m256) -> __m256 {
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_and_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(keep, _mm256_setzero_ps()), v) }
    }
    #[inline(always)]
    unsafe fn gather(self, base: *const f32, idx: __m256i) -> __m256 {
        // SAFETY: token ⇒ AVX2; the caller keeps every `base + idx[k]` in bounds.
        unsafe { _mm256_i32gather_ps::<4>(base, idx) }
    }
}

impl Io<f32> for Avx2 {
    const ALIGN: usize = 32;
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m256 {
        // SAFETY: token ⇒ AVX; the caller guarantees 8 readable floats.
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn load_part(self, p: *const f32, n: usize, fill: __m256) -> __m256 {
        let m = mask(self, n);
        // SAFETY: token ⇒ AVX; masked-off lanes are not accessed, the caller
        // guarantees the first `n` are readable.
        unsafe { _mm256_blendv_ps(fill, _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m)) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m256) {
        // SAFETY: token ⇒ AVX; the caller guarantees 8 writable floats.
        unsafe { _mm256_storeu_ps(p, v) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut f32, n: usize, v: __m256) {
        // SAFETY: token ⇒ AVX; only the first `n` lanes are written, and the caller
        // guarantees they are writable.
        unsafe { _mm256_maskstore_ps(p, mask(self, n), v) }
    }
    #[inline(always)]
    unsafe fn stream(self, p: *mut f32, v: __m256) {
        // SAFETY: token ⇒ AVX; the caller guarantees 32 writable, 32-byte-aligned bytes.
        unsafe { _mm256_stream_ps(p, v) }
    }
}

/// Copy `n < 8` 16-bit elements into a zeroed 8-element buffer.
///
/// # Safety
/// `p..p+n` readable.
#[inline(always)]
unsafe fn load_u16_part(p: *const u16, n: usize) -> [u16; 8] {
    let mut buf = [0u16; 8];
    // SAFETY: the caller guarantees `n` readable elements; `n < 8` fits `buf`.
    unsafe { std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), n.min(8)) };
    buf
}

/// Write the first `n < 8` elements of `buf` to `p`.
///
/// # Safety
/// `p..p+n` writable.
#[inline(always)]
unsafe fn store_u16_part(p: *mut u16, n: usize, buf: [u16; 8]) {
    // SAFETY: the caller guarantees `n` writable elements; `n < 8` is within `buf`.
    unsafe { std::ptr::copy_nonoverlapping(buf.as_ptr(), p, n.min(8)) }
}

#[inline(always)]
fn bf16_bits_to_f32(_: Avx2, h: __m128i) -> __m256 {
    // SAFETY: token ⇒ AVX2.
    unsafe { _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(h))) }
}

/// `f32` lanes → `bf16` bits, round to nearest-even like `half::bf16::from_f32`.
#[inline(always)]
fn f32_to_bf16_bits(_: Avx2, v: __m256) -> __m128i {
    // SAFETY: token ⇒ AVX2.
    unsafe {
        let u = _mm256_castps_si256(v);
        let hi = _mm256_srli_epi32::<16>(u);
        let lsb = _mm256_and_si256(hi, _mm256_set1_epi32(1));
        let rounded = _mm256_srli_epi32::<16>(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)), lsb));
        let quiet = _mm256_or_si256(hi, _mm256_set1_epi32(0x40));
        let nan = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_UNORD_Q>(v, v));
        let bits = _mm256_blendv_epi8(rounded, quiet, nan);
        // every lane is in [0, 0xFFFF]: the unsigned-saturating pack is exact
        let packed = _mm256_packus_epi32(bits, bits);
        _mm256_castsi256_si128(_mm256_permute4x64_epi64::<0b1000>(packed))
    }
}

impl Io<bf16> for Avx2 {
    const ALIGN: usize = 16;
    #[inline(always)]
    unsafe fn load(self, p: *const bf16) -> __m256 {
        // SAFETY: token ⇒ SSE2; the caller guarantees 16 readable bytes.
        bf16_bits_to_f32(self, unsafe { _mm_loadu_si128(p.cast()) })
    }
    #[inline(always)]
    unsafe fn load_part(self, p: *const bf16, n: usize, fill: __m256) -> __m256 {
        // SAFETY: the caller guarantees `n` readable elements (`bf16` is a `u16`).
        let buf = unsafe { load_u16_part(p.cast(), n) };
        // SAFETY: token ⇒ AVX; `buf` is 16 readable bytes.
        let v = bf16_bits_to_f32(self, unsafe { _mm_loadu_si128(buf.as_ptr().cast()) });
        // SAFETY: token ⇒ AVX.
        unsafe { _mm256_blendv_ps(fill, v, _mm256_castsi256_ps(mask(self, n))) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut bf16, v: __m256) {
        // SAFETY: token ⇒ SSE2; the caller guarantees 16 writable bytes.
        unsafe { _mm_storeu_si128(p.cast(), f32_to_bf16_bits(self, v)) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut bf16, n: usize, v: __m256) {
        let mut buf = [0u16; 8];
        // SAFETY: token ⇒ SSE2; `buf` is 16 writable bytes.
        unsafe { _mm_storeu_si128(buf.as_mut_ptr().cast(), f32_to_bf16_bits(self, v)) };
        // SAFETY: the caller guarantees `n` writable elements.
        unsafe { store_u16_part(p.cast(), n, buf) }
    }
    #[inline(always)]
    unsafe fn stream(self, p: *mut bf16, v: __m256) {
        // SAFETY: token ⇒ SSE2; the caller guarantees 16 writable, 16-byte-aligned bytes.
        unsafe { _mm_stream_si128(p.cast(), f32_to_bf16_bits(self, v)) }
    }
}

#[inline(always)]
fn f32_to_f16_bits(_: Avx2, v: __m256) -> __m128i {
    // SAFETY: token ⇒ F16C.
    unsafe { _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(v) }
}

impl Io<f16> for Avx2 {
    const ALIGN: usize = 16;
    #[inline(always)]
    unsafe fn load(self, p: *const f16) -> __m256 {
        // SAFETY: token ⇒ F16C; the caller guarantees 16 readable bytes.
        unsafe { _mm256_cvtph_ps(_mm_loadu_si128(p.cast())) }
    }
    #[inline(always)]
    unsafe fn load_part(self, p: *const f16, n: usize, fill: __m256) -> __m256 {
        // SAFETY: the caller guarantees `n` readable elements (`f16` is a `u16`).
        let buf = unsafe { load_u16_part(p.cast(), n) };
        // SAFETY: token ⇒ F16C + AVX; `buf` is 16 readable bytes.
        unsafe {
            let v = _mm256_cvtph_ps(_mm_loadu_si128(buf.as_ptr().cast()));
            _mm256_blendv_ps(fill, v, _mm256_castsi256_ps(mask(self, n)))
        }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f16, v: __m256) {
        // SAFETY: token ⇒ SSE2; the caller guarantees 16 writable bytes.
        unsafe { _mm_storeu_si128(p.cast(), f32_to_f16_bits(self, v)) }
    }
    #[inline(always)]
    unsafe fn store_part(self, p: *mut f16, n: usize, v: __m256) {
        let mut buf = [0u16; 8];
        // SAFETY: token ⇒ SSE2; `buf` is 16 writable bytes.
        unsafe { _mm_storeu_si128(buf.as_mut_ptr().cast(), f32_to_f16_bits(self, v)) };
        // SAFETY: the caller guarantees `n` writable elements.
        unsafe { store_u16_part(p.cast(), n, buf) }
    }
    #[inline(always)]
    unsafe fn stream(self, p: *mut f16, v: __m256) {
        // SAFETY: token ⇒ SSE2; the caller guarantees 16 writable, 16-byte-aligned bytes.
        unsafe { _mm_stream_si128(p.cast(), f32_to_f16_bits(self, v)) }
    }
}

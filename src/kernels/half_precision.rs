//! 16-bit float inputs (`half::f16`, `half::bf16`) for softmax, log-softmax and the
//! sparse cross-entropy: loaded and widened to `f32` in registers, every sum and exp
//! in `f32`, outputs and gradients rounded back to the input type once (nearest-even)
//! on store.

use half::{bf16, f16};

use super::isa::{current_isa, Isa};
use super::simd::rows::BLOCK;
use super::table::{Grad, Wr};
use super::{drive, drive_leaves, run_cached, use_nt, wr_for, Geom, Par, Row};

mod sealed {
    pub trait Sealed {}
    impl Sealed for half::f16 {}
    impl Sealed for half::bf16 {}
}

/// A 16-bit float the half-precision kernels accept: `half::f16` or `half::bf16`.
/// Sealed: the kernels are written for exactly these two.
pub trait Half: sealed::Sealed + Copy + Default + Send + Sync + std::fmt::Debug + 'static {
    /// Widen to `f32` (exact).
    fn to_f32(self) -> f32;
    /// Round an `f32` to this type, nearest-even (NaN stays NaN).
    fn from_f32(v: f32) -> Self;
    /// The row kernels of this type on `isa`.
    ///
    /// # Panics
    /// If this CPU does not support `isa` ([`Isa::is_available`]).
    fn half_kernels(isa: Isa) -> &'static HalfKernels<Self>;
}

/// The row kernels of a [`Half`] type on one [`Isa`] (`f32` accumulation). Opaque
/// outside the crate.
#[derive(Clone, Copy)]
pub struct HalfKernels<H: 'static> {
    pub(crate) isa: Isa,
    /// `(m, Σ exp(x − m))` in `f32`.
    pub(crate) max_sum_exp: fn(&[H]) -> (f32, f32),
    /// `(m, s)` keeping the exps in `f32`: `(x, e, mb)`.
    #[allow(clippy::type_complexity)] // the outputs of the formula
    pub(crate) max_sum_exp_store: fn(&[H], &mut [f32], &mut [f32], bool) -> (f32, f32),
    /// Sparse CE gradient from the kept exps, rounded to `H`: `(e, out, mb, terms, nt)`.
    #[allow(clippy::type_complexity)] // the operands of the formula
    pub(crate) grad_from_exp: fn(&[f32], &mut [H], &[f32], &Grad<'_, f32>, Wr),
    /// Widen to `f32`.
    pub(crate) to_f32: fn(&[H], &mut [f32]),
    /// Round from `f32` (nearest-even).
    pub(crate) from_f32: fn(&[f32], &mut [H]),
    /// `Σ w_c (l − x_c)` in `f32`.
    pub(crate) smooth_sum: fn(&[H], Option<&[f32]>, f32) -> f32,
    /// Sparse CE gradient row (see [`Grad`]), rounded to `H`.
    pub(crate) sparse_grad: fn(&[H], &mut [H], &Grad<'_, f32>, Wr),
    /// The same, over the logits.
    pub(crate) sparse_grad_in_place: fn(&mut [H], &Grad<'_, f32>),
    /// Softmax row `exp(x − m)·r`, rounded to `H`: `(x, out, m, r, nt)`.
    pub(crate) exp_scale: fn(&[H], &mut [H], f32, f32, Wr),
    /// Softmax row from the kept exps, rounded to `H`: `(e, out, mb, m, r, wr)`.
    #[allow(clippy::type_complexity)] // the operands of the formula
    pub(crate) scale_from_exp: fn(&[f32], &mut [H], &[f32], f32, f32, Wr),
    /// Log-softmax row `(x − m) − l`, rounded to `H`: `(x, out, m, l, wr)`.
    pub(crate) sub2: fn(&[H], &mut [H], f32, f32, Wr),
}

impl<H> std::fmt::Debug for HalfKernels<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HalfKernels<{}>({})", std::any::type_name::<H>(), self.isa.name())
    }
}

impl<H> HalfKernels<H> {
    /// The ISA these kernels run.
    pub fn isa(&self) -> Isa {
        self.isa
    }
}

// Scalar reference (any ISA): widen each element, compute as the `f32` scalar code.

fn s_max_sum_exp<H: Half>(x: &[H]) -> (f32, f32) {
    let mut m = f32::NEG_INFINITY;
    for &v in x {
        let v = v.to_f32();
        if v > m || v.is_nan() {
            m = v;
            if v.is_nan() {
                break;
            }
        }
    }
    if m == f32::NEG_INFINITY {
        // every entry −inf: s = 0, as the SIMD kernels
        return (m, 0.0);
    }
    (m, x.iter().map(|&v| (v.to_f32() - m).exp()).sum())
}

fn s_max_sum_exp_store<H: Half>(x: &[H], e: &mut [f32], mb: &mut [f32], _far: bool) -> (f32, f32) {
    let (m, _) = s_max_sum_exp(x);
    if m == f32::NEG_INFINITY || m.is_nan() {
        e.fill(0.0);
        mb.fill(m);
        return (m, if m.is_nan() { m } else { 0.0 });
    }
    mb.fill(m);
    let mut s = 0.0;
    for (o, &v) in e.iter_mut().zip(x) {
        *o = (v.to_f32() - m).exp();
        s += *o;
    }
    (m, s)
}

fn s_grad_from_exp<H: Half>(e: &[f32], out: &mut [H], mb: &[f32], g: &Grad<'_, f32>, _wr: Wr) {
    for (bi, ((eb, ob), &mbi)) in e.chunks(BLOCK).zip(out.chunks_mut(BLOCK)).zip(mb).enumerate() {
        let c = g.a * ((mbi - g.m) - g.l).exp();
        for (j, (o, &v)) in ob.iter_mut().zip(eb).enumerate() {
            let k = bi * BLOCK + j;
            let mut r = match g.w {
                Some(w) => c * v - g.b_all * w[k],
                None => c * v - g.b_all,
            };
            if g.y == Some(k) {
                r -= g.b_y;
            }
            *o = H::from_f32(r);
        }
    }
}

fn s_to_f32<H: Half>(x: &[H], out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v.to_f32();
    }
}

fn s_from_f32<H: Half>(x: &[f32], out: &mut [H]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = H::from_f32(v);
    }
}

fn s_smooth_sum<H: Half>(x: &[H], w: Option<&[f32]>, l: f32) -> f32 {
    match w {
        Some(w) => x.iter().zip(w).map(|(&v, &wc)| wc * (l - v.to_f32())).sum(),
        None => x.iter().map(|&v| l - v.to_f32()).sum(),
    }
}

fn s_grad_at(v: f32, g: &Grad<'_, f32>, k: usize) -> f32 {
    let p = g.a * super::scalar::exp_shifted(v, g.m, g.l);
    let mut o = match g.w {
        Some(w) => p - g.b_all * w[k],
        None => p - g.b_all,
    };
    if g.y == Some(k) {
        o -= g.b_y;
    }
    o
}

fn s_sparse_grad<H: Half>(x: &[H], out: &mut [H], g: &Grad<'_, f32>, _wr: Wr) {
    assert_eq!(x.len(), out.len());
    for (k, (o, &v)) in out.iter_mut().zip(x).enumerate() {
        *o = H::from_f32(s_grad_at(v.to_f32(), g, k));
    }
}

fn s_sparse_grad_in_place<H: Half>(x: &mut [H], g: &Grad<'_, f32>) {
    for (k, v) in x.iter_mut().enumerate() {
        *v = H::from_f32(s_grad_at(v.to_f32(), g, k));
    }
}

fn s_exp_scale<H: Half>(x: &[H], out: &mut [H], m: f32, r: f32, _wr: Wr) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = H::from_f32((v.to_f32() - m).exp() * r);
    }
}

fn s_scale_from_exp<H: Half>(e: &[f32], out: &mut [H], mb: &[f32], m: f32, r: f32, _wr: Wr) {
    for ((eb, ob), &mbi) in e.chunks(BLOCK).zip(out.chunks_mut(BLOCK)).zip(mb) {
        let c = (mbi - m).exp() * r;
        for (o, &v) in ob.iter_mut().zip(eb) {
            *o = H::from_f32(c * v);
        }
    }
}

fn s_sub2<H: Half>(x: &[H], out: &mut [H], m: f32, l: f32, _wr: Wr) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = H::from_f32(v.to_f32() - m - l);
    }
}

const fn scalar_table<H: Half>() -> HalfKernels<H> {
    HalfKernels {
        isa: Isa::Scalar,
        max_sum_exp: s_max_sum_exp::<H>,
        max_sum_exp_store: s_max_sum_exp_store::<H>,
        grad_from_exp: s_grad_from_exp::<H>,
        to_f32: s_to_f32::<H>,
        from_f32: s_from_f32::<H>,
        smooth_sum: s_smooth_sum::<H>,
        sparse_grad: s_sparse_grad::<H>,
        sparse_grad_in_place: s_sparse_grad_in_place::<H>,
        exp_scale: s_exp_scale::<H>,
        scale_from_exp: s_scale_from_exp::<H>,
        sub2: s_sub2::<H>,
    }
}

static SCALAR_F16: HalfKernels<f16> = scalar_table::<f16>();
static SCALAR_BF16: HalfKernels<bf16> = scalar_table::<bf16>();

/// SIMD tables of one half type for one ISA token.
#[cfg(target_arch = "x86_64")]
macro_rules! half_table {
    ($modname:ident, $tok:ty, $feat:literal, $isa:expr, $h:ty) => {
        mod $modname {
            use super::super::simd::rows;
            use super::{Grad, HalfKernels, Isa, Wr};
            simd_entries! { $tok, $feat;
                fn max_sum_exp(x: &[$h]) -> (f32, f32) = rows::max_sum_exp;
                fn max_sum_exp_store(x: &[$h], e: &mut [f32], mb: &mut [f32], far: bool) -> (f32, f32) = rows::max_sum_exp_store;
                fn grad_from_exp(e: &[f32], out: &mut [$h], mb: &[f32], g: &Grad<'_, f32>, wr: Wr) = rows::grad_from_exp;
                fn smooth_sum(x: &[$h], w: Option<&[f32]>, l: f32) -> f32 = rows::smooth_sum;
                fn to_f32(x: &[$h], out: &mut [f32]) = rows::convert;
                fn from_f32(x: &[f32], out: &mut [$h]) = rows::convert;
                fn sparse_grad(x: &[$h], out: &mut [$h], g: &Grad<'_, f32>, wr: Wr) = rows::sparse_grad;
                fn sparse_grad_in_place(x: &mut [$h], g: &Grad<'_, f32>) = rows::sparse_grad_in_place;
                fn exp_scale(x: &[$h], out: &mut [$h], m: f32, r: f32, wr: Wr) = rows::exp_scale;
                fn scale_from_exp(e: &[f32], out: &mut [$h], mb: &[f32], m: f32, r: f32, wr: Wr) = rows::scale_from_exp;
                fn sub2(x: &[$h], out: &mut [$h], m: f32, l: f32, wr: Wr) = rows::sub2;
            }
            pub(crate) static TABLE: HalfKernels<$h> = HalfKernels {
                isa: $isa,
                max_sum_exp,
                max_sum_exp_store,
                grad_from_exp,
                to_f32,
                from_f32,
                smooth_sum,
                sparse_grad,
                sparse_grad_in_place,
                exp_scale,
                scale_from_exp,
                sub2,
            };
        }
    };
}

#[cfg(target_arch = "x86_64")]
half_table!(avx512_f16, crate::kernels::simd::avx512::Avx512, "avx512f,avx512bw,avx512vl,avx2,fma,f16c", Isa::Avx512, half::f16);
#[cfg(target_arch = "x86_64")]
half_table!(avx512_bf16, crate::kernels::simd::avx512::Avx512, "avx512f,avx512bw,avx512vl,avx2,fma,f16c", Isa::Avx512, half::bf16);
#[cfg(target_arch = "x86_64")]
half_table!(avx2_f16, crate::kernels::simd::avx2::Avx2, "avx2,fma,f16c", Isa::Avx2, half::f16);
#[cfg(target_arch = "x86_64")]
half_table!(avx2_bf16, crate::kernels::simd::avx2::Avx2, "avx2,fma,f16c", Isa::Avx2, half::bf16);

impl Half for f16 {
    #[inline]
    fn to_f32(self) -> f32 {
        f16::to_f32(self)
    }
    #[inline]
    fn from_f32(v: f32) -> f16 {
        f16::from_f32(v)
    }
    fn half_kernels(isa: Isa) -> &'static HalfKernels<f16> {
        assert!(isa.is_available(), "xent: ISA {} is not supported by this CPU", isa.name());
        match isa {
            Isa::Scalar => &SCALAR_F16,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => &avx2_f16::TABLE,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => &avx512_f16::TABLE,
            #[cfg(not(target_arch = "x86_64"))]
            _ => &SCALAR_F16,
        }
    }
}

impl Half for bf16 {
    #[inline]
    fn to_f32(self) -> f32 {
        bf16::to_f32(self)
    }
    #[inline]
    fn from_f32(v: f32) -> bf16 {
        bf16::from_f32(v)
    }
    fn half_kernels(isa: Isa) -> &'static HalfKernels<bf16> {
        assert!(isa.is_available(), "xent: ISA {} is not supported by this CPU", isa.name());
        match isa {
            Isa::Scalar => &SCALAR_BF16,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => &avx2_bf16::TABLE,
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => &avx512_bf16::TABLE,
            #[cfg(not(target_arch = "x86_64"))]
            _ => &SCALAR_BF16,
        }
    }
}

// ---------------------------------------------------------------------------------
// Softmax and log-softmax of 16-bit inputs.

/// Softmax over the class axis of `f16`/`bf16` data: every max, exp and sum in `f32`
/// (the rows of [`super::softmax`], widened on load), the result rounded once to `H`
/// (nearest-even) on store, as PyTorch's CPU kernel for half inputs computes it. A
/// NaN or `+inf` row, or one of only `−inf`, gives NaN; an `f16` result below
/// `2^-25` rounds to 0 (`bf16` keeps `f32`'s exponent range).
pub(crate) fn softmax_half<H: Half>(x: &[H], g: Geom, out: &mut [H], par: Par) {
    let k = H::half_kernels(current_isa());
    let nt = use_nt::<H>(g);
    let row = |r: Row<'_, H, f32>| {
        let (m, s) = (k.max_sum_exp)(r.a);
        (k.exp_scale)(r.a, r.out.expect("out"), m, s.recip(), wr_for(g, nt, r.a));
        (0.0, 0.0)
    };
    let cached = |r: Row<'_, H, f32>, e: &mut [f32], mb: &mut [f32]| {
        let (m, s) = (k.max_sum_exp_store)(r.a, e, mb, nt);
        let wr = wr_for(g, nt, r.a);
        (k.scale_from_exp)(e, r.out.expect("out"), mb, m, s.recip(), wr);
        (0.0, 0.0)
    };
    drive_leaves(g, par, x, None, Some(out), None::<&[f32]>, None, None, None, |b| run_cached(b, g.classes, &row, &cached));
}

/// Log-softmax over the class axis of `f16`/`bf16` data: `(x − m) − ln Σ exp(x − m)`
/// in `f32`, rounded once to `H`. NaN rows as [`softmax_half`]; a `−inf` entry beside
/// a finite max gives `−inf`.
pub(crate) fn log_softmax_half<H: Half>(x: &[H], g: Geom, out: &mut [H], par: Par) {
    let k = H::half_kernels(current_isa());
    let nt = use_nt::<H>(g);
    drive(g, par, x, None, Some(out), None::<&[f32]>, None, None, None, |r: Row<'_, H, f32>| {
        let (m, s) = (k.max_sum_exp)(r.a);
        let l = if m == f32::NEG_INFINITY { f32::NAN } else { s.ln() };
        (k.sub2)(r.a, r.out.expect("out"), m, l, wr_for(g, nt, r.a));
        (0.0, 0.0)
    });
}

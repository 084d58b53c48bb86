//! The `f64` row-kernel tables: AVX-512 (8 lanes) and AVX2+FMA (4 lanes) entries
//! running the kernels of [`super::simd::double::rows`].
//!
//! Every entry is SIMD on both ISAs but `ln`, a test hook (rows call `f64::ln` once
//! per row), which is the scalar one. `f64` has no few-classes table: rows of
//! `C ≤ 16` classes run the per-row SIMD kernels (the wide-row split works as for
//! `f32`: it calls the same table).

use super::isa::Isa;
use super::table::{scalar_table, RowKernels, SCALAR_F64};

/// The scalar `f64` table, source of the entry without a SIMD version (`ln`).
#[cfg(target_arch = "x86_64")]
const SCALAR: RowKernels<f64> = scalar_table::<f64>();

/// A SIMD `f64` table for one ISA token.
#[cfg(target_arch = "x86_64")]
macro_rules! simd_table_f64 {
    ($modname:ident, $tok:ty, $feat:literal, $isa:expr) => {
        pub(crate) mod $modname {
            use super::super::simd::double::rows;
            use super::super::table::{Grad, Wr};
            use super::{Isa, RowKernels, SCALAR};
            simd_entries! { $tok, $feat;
                fn copy(x: &[f64], out: &mut [f64], nt: bool) = rows::copy;
                fn exp(x: &[f64], out: &mut [f64]) = rows::exp_map;
                fn max_sum_exp(x: &[f64]) -> (f64, f64) = rows::max_sum_exp;
                fn max_sum_exp_store(x: &[f64], e: &mut [f64], mb: &mut [f64], far: bool) -> (f64, f64) = rows::max_sum_exp_store;
                fn scale_from_exp(e: &[f64], out: &mut [f64], mb: &[f64], m: f64, r: f64, wr: Wr) = rows::scale_from_exp;
                fn scale_in_place(e: &mut [f64], mb: &[f64], m: f64, r: f64, wr: Wr) = rows::scale_in_place;
                fn grad_from_exp(e: &[f64], out: &mut [f64], mb: &[f64], g: &Grad<'_, f64>, wr: Wr) = rows::grad_from_exp;
                fn exp_scale(x: &[f64], out: &mut [f64], m: f64, r: f64, wr: Wr) = rows::exp_scale;
                fn sub2(x: &[f64], out: &mut [f64], m: f64, l: f64, wr: Wr) = rows::sub2;
                fn sparse_grad(x: &[f64], out: &mut [f64], g: &Grad<'_, f64>, wr: Wr) = rows::sparse_grad;
                fn sparse_grad_in_place(x: &mut [f64], g: &Grad<'_, f64>) = rows::sparse_grad_in_place;
                fn smooth_sum(x: &[f64], w: Option<&[f64]>, l: f64) -> f64 = rows::smooth_sum;
                fn sum(x: &[f64]) -> f64 = rows::sum;
                fn dot(a: &[f64], b: &[f64]) -> f64 = rows::dot;
                fn dot_sum(a: &[f64], b: &[f64]) -> (f64, f64) = rows::dot_sum;
                fn softmax_bwd(y: &[f64], gy: &[f64], out: &mut [f64], d: f64, nt: bool) = rows::softmax_bwd;
                fn log_softmax_bwd(x: &[f64], gy: &[f64], out: &mut [f64], m: f64, ls: f64, t: f64, nt: bool) = rows::log_softmax_bwd;
                fn dense_ce(x: &[f64], t: &[f64], w: Option<&[f64]>, m: f64, ls: f64) -> f64 = rows::dense_ce;
                fn dense_grad(x: &[f64], t: &[f64], w: Option<&[f64]>, m: f64, ls: f64, a: f64, sc: f64, out: &mut [f64], nt: bool) = rows::dense_grad;
            }
            pub(crate) static TABLE: RowKernels<f64> = RowKernels {
                isa: $isa,
                small: None,
                copy,
                exp,
                max_sum_exp,
                max_sum_exp_store,
                scale_from_exp,
                scale_in_place,
                grad_from_exp,
                exp_scale,
                sub2,
                sparse_grad,
                sparse_grad_in_place,
                smooth_sum,
                sum,
                dot,
                dot_sum,
                softmax_bwd,
                log_softmax_bwd,
                dense_ce,
                dense_grad,
                ..SCALAR
            };
        }
    };
}

#[cfg(target_arch = "x86_64")]
simd_table_f64!(avx512, crate::kernels::simd::avx512::Avx512, "avx512f,avx512bw,avx512vl,avx2,fma,f16c", Isa::Avx512);
#[cfg(target_arch = "x86_64")]
simd_table_f64!(avx2, crate::kernels::simd::avx2::Avx2, "avx2,fma,f16c", Isa::Avx2);

/// The `f64` table for `isa`.
///
/// # Panics
/// If `isa` is not available on this CPU.
pub(crate) fn f64_table(isa: Isa) -> &'static RowKernels<f64> {
    assert!(isa.is_available(), "xent: ISA {} is not supported by this CPU", isa.name());
    match isa {
        Isa::Scalar => &SCALAR_F64,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => &avx2::TABLE,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => &avx512::TABLE,
        #[cfg(not(target_arch = "x86_64"))]
        _ => &SCALAR_F64,
    }
}

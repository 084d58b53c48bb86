//! Per-ISA tables of row kernels, picked once per kernel call.
//!
//! A public kernel looks up [`Float::row_kernels`] for [`current_isa`] on the calling
//! thread and hands the table (plain function pointers) to its row closures, so the
//! worker threads run the same ISA. `f32` has a scalar, an AVX2 and an AVX-512
//! table; `f64`'s tables are in [`super::table_f64`].
//!
//! Each SIMD entry is a safe function wrapping an inner `#[target_feature]` function
//! that makes the ISA token and runs the generic kernel of [`super::simd::rows`]; the
//! tables are only handed out for an ISA that [`Isa::is_available`] confirmed.

use super::isa::{current_isa, Isa};
use super::scalar;
use super::simd::rows::BLOCK;
pub(crate) use super::simd::small::{CeGradRows, CeParams, Fix, Layout};
pub(crate) use super::simd::Wr;
use crate::float::Float;

/// The terms of a sparse cross-entropy gradient row:
/// `out_k = a·exp((x_k − m) − l) − b_all·w_k − b_y·[k = y]` (`w_k = 1` without
/// weights). With only the log-sum-exp known, pass `m = lse`, `l = 0`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grad<'w, T> {
    pub m: T,
    pub l: T,
    pub a: T,
    pub b_all: T,
    pub w: Option<&'w [T]>,
    /// Index of the label within this slice, if it falls in it.
    pub y: Option<usize>,
    pub b_y: T,
}

/// The row kernels of element type `T` on one [`Isa`]: function pointers chosen once
/// per call with [`Float::row_kernels`]. Opaque outside the crate.
#[derive(Clone, Copy)]
pub struct RowKernels<T: 'static> {
    pub(crate) isa: Isa,
    /// The few-classes path, where this ISA has one.
    pub(crate) small: Option<&'static SmallKernels<T>>,
    /// `out = x` (`nt`: non-temporal stores).
    #[cfg_attr(not(feature = "cli"), allow(dead_code))]
    // the copy is called by the bench runner (feature `cli`) only
    pub(crate) copy: fn(&[T], &mut [T], bool),
    /// `out = exp(x)`.
    #[cfg_attr(not(any(test, feature = "cli")), allow(dead_code))]
    // the bare exp is called by the accuracy tests and the bench runner (feature `cli`) only
    pub(crate) exp: fn(&[T], &mut [T]),
    /// `out = ln(x)` (positive normal `x`).
    #[cfg_attr(not(test), allow(dead_code))]
    // the bare ln is called by the accuracy tests only
    pub(crate) ln: fn(&[T], &mut [T]),
    /// `(m, Σ exp(x − m))`, `m` the max of the non-NaN entries.
    pub(crate) max_sum_exp: fn(&[T]) -> (T, T),
    /// `(m, s)` keeping the exps for the write pass: `(x, e, mb)` (see
    /// [`super::simd::rows::max_sum_exp_store`]).
    #[allow(clippy::type_complexity)] // the outputs of the formula
    pub(crate) max_sum_exp_store: fn(&[T], &mut [T], &mut [T], bool) -> (T, T),
    /// Softmax from the kept exps: `(e, out, mb, m, r, wr)`.
    #[allow(clippy::type_complexity)] // the operands of the formula
    pub(crate) scale_from_exp: fn(&[T], &mut [T], &[T], T, T, Wr),
    /// Softmax from exps kept in the output row itself, in place: `(e, mb, m, r, wr)`
    /// (ordinary stores).
    #[allow(clippy::type_complexity)] // the operands of the formula
    pub(crate) scale_in_place: fn(&mut [T], &[T], T, T, Wr),
    /// Sparse CE gradient from the kept exps: `(e, out, mb, terms, wr)`.
    #[allow(clippy::type_complexity)] // the operands of the formula
    pub(crate) grad_from_exp: fn(&[T], &mut [T], &[T], &Grad<'_, T>, Wr),
    /// `out = exp(x − m)·r`.
    pub(crate) exp_scale: fn(&[T], &mut [T], T, T, Wr),
    /// `out = (x − m) − l`.
    pub(crate) sub2: fn(&[T], &mut [T], T, T, Wr),
    /// `Σ x`.
    pub(crate) sum: fn(&[T]) -> T,
    /// `Σ a·b`.
    pub(crate) dot: fn(&[T], &[T]) -> T,
    /// `(Σ a·b, Σ a)`, accumulated identically.
    pub(crate) dot_sum: fn(&[T], &[T]) -> (T, T),
    /// `out = y·(gy − d)`.
    pub(crate) softmax_bwd: fn(&[T], &[T], &mut [T], T, bool),
    /// `out = gy − exp((x − m) − ls)·t`, arguments `(x, gy, out, m, ls, t, nt)`.
    #[allow(clippy::type_complexity)] // the signature is the formula's operands
    pub(crate) log_softmax_bwd: fn(&[T], &[T], &mut [T], T, T, T, bool),
    /// Sparse CE gradient row (see [`Grad`]).
    pub(crate) sparse_grad: fn(&[T], &mut [T], &Grad<'_, T>, Wr),
    /// Sparse CE gradient row over the logits.
    pub(crate) sparse_grad_in_place: fn(&mut [T], &Grad<'_, T>),
    /// `Σ w_c (l − x_c)`.
    pub(crate) smooth_sum: fn(&[T], Option<&[T]>, T) -> T,
    /// `Σ w_c t_c (ls − (x_c − m))`, arguments `(x, t, w, m, ls)`.
    #[allow(clippy::type_complexity)] // the signature is the formula's operands
    pub(crate) dense_ce: fn(&[T], &[T], Option<&[T]>, T, T) -> T,
    /// `out = sc·(exp((x − m) − ls)·a − w∘t)`, arguments `(x, t, w, m, ls, a, sc, out, nt)`.
    #[allow(clippy::type_complexity)] // the signature is the formula's operands
    pub(crate) dense_grad: fn(&[T], &[T], Option<&[T]>, T, T, T, T, &mut [T], bool),
}

/// Kernels of the few-classes path ([`super::simd::small`]): rows in groups of
/// `lanes`, one row per lane.
pub(crate) struct SmallKernels<T: 'static> {
    /// Rows per group (the vector width).
    pub(crate) lanes: usize,
    /// Per row `(m, s, ln s)`: `(x, c, m, s, ls)`.
    #[allow(clippy::type_complexity)] // the outputs of the formula
    pub(crate) stats: fn(&[T], usize, &mut [T], &mut [T], &mut [T]),
    /// Per row sparse CE loss, lse and gradient terms: `(x, c, y, keep, scale, params,
    /// loss, lse, grad_rows)`.
    #[allow(clippy::type_complexity)] // the operands of the formula
    pub(crate) ce_stats: fn(&[T], usize, &[i32], &[T], &[T], &CeParams<'_, T>, &mut [T], &mut [T], Option<CeGradRows<'_, T>>),
    /// `out = a·exp((x − m) − l) − b·w` per row, then the label fix-ups:
    /// `(x, layout, m, l, a, b, fix, out)`.
    #[allow(clippy::type_complexity)] // the operands of the formula
    pub(crate) grad: fn(&[T], &Layout<'_, T>, &[T], &[T], &[T], &[T], Option<Fix<'_, T>>, &mut [T]),
    /// The same over `x`.
    #[allow(clippy::type_complexity)] // the operands of the formula
    pub(crate) grad_in_place: fn(&mut [T], &Layout<'_, T>, &[T], &[T], &[T], &[T], Option<Fix<'_, T>>),
    /// `out = (x − m) − l` per row.
    #[allow(clippy::type_complexity)] // the operands of the formula
    pub(crate) sub2: fn(&[T], &Layout<'_, T>, &[T], &[T], &mut [T]),
}

impl<T> std::fmt::Debug for RowKernels<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RowKernels<{}>({})", std::any::type_name::<T>(), self.isa.name())
    }
}

impl<T> RowKernels<T> {
    /// The ISA these kernels run.
    pub fn isa(&self) -> Isa {
        self.isa
    }
}

/// The row kernels `T` runs on the calling thread now ([`current_isa`]).
pub(crate) fn kernels<T: Float>() -> &'static RowKernels<T> {
    T::row_kernels(current_isa())
}

// ---------------------------------------------------------------------------------
// Scalar table (any `Float`).

fn s_copy<T: Float>(x: &[T], out: &mut [T], _nt: bool) {
    out.copy_from_slice(x);
}

fn s_exp<T: Float>(x: &[T], out: &mut [T]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v.exp();
    }
}

fn s_ln<T: Float>(x: &[T], out: &mut [T]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v.ln();
    }
}

/// `(m, s)` with the contract of the SIMD kernels: `s = 0` when every entry is `−inf`
/// (the reference's `exp(−inf − (−inf))` would make it NaN, which would poison the
/// merge of a split row); a NaN entry makes `m` NaN.
fn s_max_sum_exp<T: Float>(x: &[T]) -> (T, T) {
    let m = scalar::row_max(x);
    if m == T::neg_infinity() {
        return (m, T::zero());
    }
    (m, scalar::sum_exp(x, m))
}

/// [`s_max_sum_exp`] keeping `e_k = exp(x_k − m)` (one block state for the whole row:
/// `mb = m` everywhere; `e = 0`, `mb = −inf` for a row of only `−inf`).
fn s_max_sum_exp_store<T: Float>(x: &[T], e: &mut [T], mb: &mut [T], _far: bool) -> (T, T) {
    let m = scalar::row_max(x);
    if m == T::neg_infinity() {
        e.fill(T::zero());
        mb.fill(m);
        return (m, T::zero());
    }
    mb.fill(m);
    let mut s = T::zero();
    for (o, &v) in e.iter_mut().zip(x) {
        *o = (v - m).exp();
        s += *o;
    }
    (m, s)
}

fn s_scale_from_exp<T: Float>(e: &[T], out: &mut [T], mb: &[T], m: T, r: T, _wr: Wr) {
    for ((eb, ob), &mbi) in e.chunks(BLOCK).zip(out.chunks_mut(BLOCK)).zip(mb) {
        let c = (mbi - m).exp() * r;
        for (o, &v) in ob.iter_mut().zip(eb) {
            *o = c * v;
        }
    }
}

fn s_scale_in_place<T: Float>(e: &mut [T], mb: &[T], m: T, r: T, _wr: Wr) {
    for (eb, &mbi) in e.chunks_mut(BLOCK).zip(mb) {
        let c = (mbi - m).exp() * r;
        for v in eb.iter_mut() {
            *v = c * *v;
        }
    }
}

fn s_grad_from_exp<T: Float>(e: &[T], out: &mut [T], mb: &[T], g: &Grad<'_, T>, _wr: Wr) {
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
            *o = r;
        }
    }
}

fn s_exp_scale<T: Float>(x: &[T], out: &mut [T], m: T, r: T, _wr: Wr) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v - m).exp() * r;
    }
}

fn s_sub2<T: Float>(x: &[T], out: &mut [T], m: T, l: T, _wr: Wr) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v - m - l;
    }
}

fn s_sum<T: Float>(x: &[T]) -> T {
    scalar::sum_compensated(x)
}

fn s_dot<T: Float>(a: &[T], b: &[T]) -> T {
    scalar::weighted_sum(a, Some(b))
}

fn s_dot_sum<T: Float>(a: &[T], b: &[T]) -> (T, T) {
    a.iter().zip(b).fold((T::zero(), T::zero()), |(d, s), (&u, &v)| (d + u * v, s + u))
}

fn s_softmax_bwd<T: Float>(y: &[T], gy: &[T], out: &mut [T], d: T, _nt: bool) {
    for ((o, &a), &b) in out.iter_mut().zip(y).zip(gy) {
        *o = a * (b - d);
    }
}

#[allow(clippy::too_many_arguments)] // mirrors `RowKernels::log_softmax_bwd`
fn s_log_softmax_bwd<T: Float>(x: &[T], gy: &[T], out: &mut [T], m: T, ls: T, t: T, _nt: bool) {
    for ((o, &a), &b) in out.iter_mut().zip(x).zip(gy) {
        *o = b - scalar::exp_shifted(a, m, ls) * t;
    }
}

fn s_grad_at<T: Float>(v: T, g: &Grad<'_, T>, k: usize) -> T {
    let p = g.a * scalar::exp_shifted(v, g.m, g.l);
    let mut o = match g.w {
        Some(w) => p - g.b_all * w[k],
        None => p - g.b_all,
    };
    if g.y == Some(k) {
        o -= g.b_y;
    }
    o
}

fn s_sparse_grad<T: Float>(x: &[T], out: &mut [T], g: &Grad<'_, T>, _wr: Wr) {
    assert_eq!(x.len(), out.len());
    for (k, (o, &v)) in out.iter_mut().zip(x).enumerate() {
        *o = s_grad_at(v, g, k);
    }
}

fn s_sparse_grad_in_place<T: Float>(x: &mut [T], g: &Grad<'_, T>) {
    for (k, v) in x.iter_mut().enumerate() {
        *v = s_grad_at(*v, g, k);
    }
}

fn s_smooth_sum<T: Float>(x: &[T], w: Option<&[T]>, l: T) -> T {
    match w {
        Some(w) => x.iter().zip(w).fold(T::zero(), |s, (&xv, &wc)| s + wc * (l - xv)),
        None => x.iter().fold(T::zero(), |s, &xv| s + (l - xv)),
    }
}

#[allow(clippy::too_many_arguments)] // mirrors `RowKernels::dense_grad`
fn s_dense_grad<T: Float>(x: &[T], t: &[T], w: Option<&[T]>, m: T, ls: T, a: T, sc: T, out: &mut [T], _nt: bool) {
    scalar::dense_grad_row(x, t, w, m, ls, a, sc, out);
}

/// The scalar table of `T`.
pub(crate) const fn scalar_table<T: Float>() -> RowKernels<T> {
    RowKernels {
        isa: Isa::Scalar,
        small: None,
        copy: s_copy::<T>,
        exp: s_exp::<T>,
        ln: s_ln::<T>,
        max_sum_exp_store: s_max_sum_exp_store::<T>,
        scale_from_exp: s_scale_from_exp::<T>,
        scale_in_place: s_scale_in_place::<T>,
        grad_from_exp: s_grad_from_exp::<T>,
        max_sum_exp: s_max_sum_exp::<T>,
        exp_scale: s_exp_scale::<T>,
        sub2: s_sub2::<T>,
        sum: s_sum::<T>,
        dot: s_dot::<T>,
        dot_sum: s_dot_sum::<T>,
        softmax_bwd: s_softmax_bwd::<T>,
        log_softmax_bwd: s_log_softmax_bwd::<T>,
        sparse_grad: s_sparse_grad::<T>,
        sparse_grad_in_place: s_sparse_grad_in_place::<T>,
        smooth_sum: s_smooth_sum::<T>,
        dense_ce: scalar::dense_ce_row::<T>,
        dense_grad: s_dense_grad::<T>,
    }
}

pub(crate) static SCALAR_F32: RowKernels<f32> = scalar_table::<f32>();
pub(crate) static SCALAR_F64: RowKernels<f64> = scalar_table::<f64>();

/// The scalar table of `half::f16` (every operation rounded to half; see [`Float`]).
pub(crate) static SCALAR_F16: RowKernels<half::f16> = scalar_table::<half::f16>();

// ---------------------------------------------------------------------------------
// SIMD tables (`f32`).

/// Generate safe entry points `fn name(args) -> ret` that run `body(token, args)`
/// inside a `#[target_feature(enable = features)]` function.
#[cfg(target_arch = "x86_64")]
macro_rules! simd_entries {
    ($tok:ty, $feat:literal; $( fn $name:ident ( $($arg:ident : $ty:ty),* ) $(-> $ret:ty)? = $body:expr ; )*) => {
        $(
            #[allow(clippy::too_many_arguments)] // mirrors the `RowKernels` field
            fn $name($($arg: $ty),*) $(-> $ret)? {
                #[allow(clippy::too_many_arguments)] // mirrors the `RowKernels` field
                #[target_feature(enable = $feat)]
                fn inner($($arg: $ty),*) $(-> $ret)? {
                    // SAFETY: `inner` is only called from the entry below, which is only
                    // reachable through a table handed out for an available ISA.
                    let s = unsafe { <$tok>::new_unchecked() };
                    ($body)(s, $($arg),*)
                }
                // SAFETY: the tables holding this entry are only handed out by
                // `row_kernels` after `Isa::is_available` (see the module docs).
                unsafe { inner($($arg),*) }
            }
        )*
    };
}

/// A SIMD `f32` table for one ISA token.
#[cfg(target_arch = "x86_64")]
macro_rules! simd_table {
    ($modname:ident, $tok:ty, $feat:literal, $isa:expr) => {
        pub(crate) mod $modname {
            use super::super::simd::{rows, small};
            use super::{CeGradRows, CeParams, Fix, Grad, Isa, Layout, RowKernels, SmallKernels, Wr};
            simd_entries! { $tok, $feat;
                fn copy(x: &[f32], out: &mut [f32], nt: bool) = rows::copy;
                fn exp(x: &[f32], out: &mut [f32]) = rows::exp_map;
                fn ln(x: &[f32], out: &mut [f32]) = rows::ln_map;
                fn max_sum_exp(x: &[f32]) -> (f32, f32) = rows::max_sum_exp;
                fn max_sum_exp_store(x: &[f32], e: &mut [f32], mb: &mut [f32], far: bool) -> (f32, f32) = rows::max_sum_exp_store;
                fn scale_from_exp(e: &[f32], out: &mut [f32], mb: &[f32], m: f32, r: f32, wr: Wr) = rows::scale_from_exp;
                fn scale_in_place(e: &mut [f32], mb: &[f32], m: f32, r: f32, wr: Wr) = rows::scale_in_place;
                fn grad_from_exp(e: &[f32], out: &mut [f32], mb: &[f32], g: &Grad<'_, f32>, wr: Wr) = rows::grad_from_exp;
                fn exp_scale(x: &[f32], out: &mut [f32], m: f32, r: f32, wr: Wr) = rows::exp_scale;
                fn sub2(x: &[f32], out: &mut [f32], m: f32, l: f32, wr: Wr) = rows::sub2;
                fn sum(x: &[f32]) -> f32 = rows::sum;
                fn dot(a: &[f32], b: &[f32]) -> f32 = rows::dot;
                fn dot_sum(a: &[f32], b: &[f32]) -> (f32, f32) = rows::dot_sum;
                fn softmax_bwd(y: &[f32], gy: &[f32], out: &mut [f32], d: f32, nt: bool) = rows::softmax_bwd;
                fn log_softmax_bwd(x: &[f32], gy: &[f32], out: &mut [f32], m: f32, ls: f32, t: f32, nt: bool) = rows::log_softmax_bwd;
                fn sparse_grad(x: &[f32], out: &mut [f32], g: &Grad<'_, f32>, wr: Wr) = rows::sparse_grad;
                fn sparse_grad_in_place(x: &mut [f32], g: &Grad<'_, f32>) = rows::sparse_grad_in_place;
                fn smooth_sum(x: &[f32], w: Option<&[f32]>, l: f32) -> f32 = rows::smooth_sum;
                fn dense_ce(x: &[f32], t: &[f32], w: Option<&[f32]>, m: f32, ls: f32) -> f32 = rows::dense_ce;
                fn dense_grad(x: &[f32], t: &[f32], w: Option<&[f32]>, m: f32, ls: f32, a: f32, sc: f32, out: &mut [f32], nt: bool) = rows::dense_grad;
                fn small_stats(x: &[f32], c: usize, m: &mut [f32], se: &mut [f32], ls: &mut [f32]) = small::stats;
                fn small_ce_stats(x: &[f32], c: usize, y: &[i32], keep: &[f32], scale: &[f32], p: &CeParams<'_, f32>, loss: &mut [f32], lse: &mut [f32], grad: Option<CeGradRows<'_, f32>>) = small::ce_stats;
                fn small_grad(x: &[f32], lay: &Layout<'_, f32>, m: &[f32], l: &[f32], a: &[f32], b: &[f32], fix: Option<Fix<'_, f32>>, out: &mut [f32]) = small::grad;
                fn small_grad_in_place(x: &mut [f32], lay: &Layout<'_, f32>, m: &[f32], l: &[f32], a: &[f32], b: &[f32], fix: Option<Fix<'_, f32>>) = small::grad_in_place;
                fn small_sub2(x: &[f32], lay: &Layout<'_, f32>, m: &[f32], l: &[f32], out: &mut [f32]) = small::sub2;
            }
            static SMALL: SmallKernels<f32> = SmallKernels {
                lanes: <$tok as crate::kernels::simd::Simd>::N,
                stats: small_stats,
                ce_stats: small_ce_stats,
                grad: small_grad,
                grad_in_place: small_grad_in_place,
                sub2: small_sub2,
            };
            pub(crate) static TABLE: RowKernels<f32> = RowKernels {
                isa: $isa,
                small: Some(&SMALL),
                copy,
                exp,
                ln,
                max_sum_exp_store,
                scale_from_exp,
                scale_in_place,
                grad_from_exp,
                max_sum_exp,
                exp_scale,
                sub2,
                sum,
                dot,
                dot_sum,
                softmax_bwd,
                log_softmax_bwd,
                sparse_grad,
                sparse_grad_in_place,
                smooth_sum,
                dense_ce,
                dense_grad,
            };
        }
    };
}

#[cfg(target_arch = "x86_64")]
simd_table!(avx512, crate::kernels::simd::avx512::Avx512, "avx512f,avx512bw,avx512vl,avx2,fma,f16c", Isa::Avx512);
#[cfg(target_arch = "x86_64")]
simd_table!(avx2, crate::kernels::simd::avx2::Avx2, "avx2,fma,f16c", Isa::Avx2);

/// The `f32` table for `isa`.
///
/// # Panics
/// If `isa` is not available on this CPU.
pub(crate) fn f32_table(isa: Isa) -> &'static RowKernels<f32> {
    assert!(isa.is_available(), "xent: ISA {} is not supported by this CPU", isa.name());
    match isa {
        Isa::Scalar => &SCALAR_F32,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => &avx2::TABLE,
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => &avx512::TABLE,
        #[cfg(not(target_arch = "x86_64"))]
        _ => &SCALAR_F32,
    }
}

//! The floating-point element trait shared by every layer.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

use crate::array::{DType, DynArray, DynView};
use crate::kernels::{Isa, RowKernels};
use ndarray::{ArrayD, ArrayViewD};

/// `f32`, `f64` or `half::f16`: the element types the numerics are generic over.
///
/// `f32` and `f64` are what the ops compute in. `f16` is here for one purpose: to
/// reproduce frameworks that compute in float16 with every intermediate rounded to
/// half (the Keras loss functions on float16 inputs); each arithmetic operation and
/// each `exp`/`ln` of `half::f16` is done in `f32` and rounded to half, as Eigen's
/// `half` does in TensorFlow's CPU kernels. Everywhere else half-precision inputs
/// (`half::f16`, `half::bf16`) are computed in `f32` and rounded once, by the kernels
/// that accept them explicitly ([`crate::kernels::Half`]).
pub trait Float:
    num_traits::Float
    + num_traits::FloatConst
    + Send
    + Sync
    + Debug
    + Display
    + Default
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + 'static
{
    /// The matching run-time dtype.
    const DTYPE: DType;
    /// Machine epsilon (`2^-23` or `2^-52`).
    const EPSILON: Self;
    /// Convert from `f64`, rounding to nearest.
    fn of(x: f64) -> Self;
    /// Widen to `f64` (exact).
    fn f64(self) -> f64;
    /// Wrap an owned array of this type as a [`DynArray`].
    fn wrap(a: ArrayD<Self>) -> DynArray;
    /// View a [`DynArray`] of this dtype, or `None` for another dtype.
    fn unwrap_ref(a: &DynArray) -> Option<&ArrayD<Self>>;
    /// The view inside a [`DynView`] of this dtype, or `None` for another dtype.
    fn unwrap_view<'v, 'a>(a: &'v DynView<'a>) -> Option<&'v ArrayViewD<'a, Self>>;
    /// The row kernels of this type on `isa`: SIMD for `f32` and `f64` on AVX2 and
    /// AVX-512 (`f64`'s in `kernels/table_f64.rs`), the scalar reference otherwise.
    ///
    /// # Panics
    /// If this CPU does not support `isa` ([`Isa::is_available`]).
    fn row_kernels(isa: Isa) -> &'static RowKernels<Self>;
}

impl Float for f32 {
    const DTYPE: DType = DType::F32;
    const EPSILON: f32 = f32::EPSILON;
    #[inline(always)]
    fn of(x: f64) -> f32 {
        x as f32
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        f64::from(self)
    }
    fn wrap(a: ArrayD<f32>) -> DynArray {
        DynArray::F32(a)
    }
    fn unwrap_ref(a: &DynArray) -> Option<&ArrayD<f32>> {
        match a {
            DynArray::F32(a) => Some(a),
            _ => None,
        }
    }
    fn unwrap_view<'v, 'a>(a: &'v DynView<'a>) -> Option<&'v ArrayViewD<'a, f32>> {
        match a {
            DynView::F32(a) => Some(a),
            _ => None,
        }
    }
    fn row_kernels(isa: Isa) -> &'static RowKernels<f32> {
        crate::kernels::table::f32_table(isa)
    }
}

impl Float for f64 {
    const DTYPE: DType = DType::F64;
    const EPSILON: f64 = f64::EPSILON;
    #[inline(always)]
    fn of(x: f64) -> f64 {
        x
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self
    }
    fn wrap(a: ArrayD<f64>) -> DynArray {
        DynArray::F64(a)
    }
    fn unwrap_ref(a: &DynArray) -> Option<&ArrayD<f64>> {
        match a {
            DynArray::F64(a) => Some(a),
            _ => None,
        }
    }
    fn unwrap_view<'v, 'a>(a: &'v DynView<'a>) -> Option<&'v ArrayViewD<'a, f64>> {
        match a {
            DynView::F64(a) => Some(a),
            _ => None,
        }
    }
    fn row_kernels(isa: Isa) -> &'static RowKernels<f64> {
        assert!(isa.is_available(), "xent: ISA {} is not supported by this CPU", isa.name());
        crate::kernels::table_f64::f64_table(isa)
    }
}

impl Float for half::f16 {
    const DTYPE: DType = DType::F16;
    const EPSILON: half::f16 = half::f16::EPSILON;
    #[inline(always)]
    fn of(x: f64) -> half::f16 {
        half::f16::from_f64(x)
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self.to_f64()
    }
    fn wrap(a: ArrayD<half::f16>) -> DynArray {
        DynArray::F16(a)
    }
    fn unwrap_ref(a: &DynArray) -> Option<&ArrayD<half::f16>> {
        match a {
            DynArray::F16(a) => Some(a),
            _ => None,
        }
    }
    fn unwrap_view<'v, 'a>(a: &'v DynView<'a>) -> Option<&'v ArrayViewD<'a, half::f16>> {
        match a {
            DynView::F16(a) => Some(a),
            _ => None,
        }
    }
    fn row_kernels(isa: Isa) -> &'static RowKernels<half::f16> {
        assert!(isa.is_available(), "xent: ISA {} is not supported by this CPU", isa.name());
        &crate::kernels::table::SCALAR_F16
    }
}

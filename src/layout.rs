//! Axis handling: any class axis of any tensor becomes a kernel [`Geom`]
//! `(outer, classes, inner)`, with no data movement.

use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn};

use crate::error::{Error, Result};
use crate::kernels::Geom;

/// Resolve a possibly negative `axis` against `rank` (`-1` is the last axis).
///
/// # Errors
/// [`Error::Axis`] naming `op` and `input` when `axis` is outside `[-rank, rank)`.
///
/// ```
/// assert_eq!(xent::layout::normalize_axis("op", "x", -1, &[3, 5]).unwrap(), 1);
/// assert!(xent::layout::normalize_axis("op", "x", 2, &[3, 5]).is_err());
/// ```
pub fn normalize_axis(op: &str, input: &str, axis: i64, shape: &[usize]) -> Result<usize> {
    let rank = shape.len() as i64;
    let a = if axis < 0 { axis + rank } else { axis };
    if a < 0 || a >= rank {
        return Err(Error::Axis { op: op.into(), input: input.into(), axis, rank: shape.len(), shape: shape.to_vec() });
    }
    Ok(a as usize)
}

/// The `(outer, classes, inner)` geometry of `shape` with the class axis at `axis`
/// (already normalised).
///
/// ```
/// use xent::kernels::Geom;
/// assert_eq!(xent::layout::geom(&[2, 5, 3, 4], 1), Geom { outer: 2, classes: 5, inner: 12 });
/// ```
pub fn geom(shape: &[usize], axis: usize) -> Geom {
    Geom { outer: shape[..axis].iter().product(), classes: shape[axis], inner: shape[axis + 1..].iter().product() }
}

/// `shape` with `axis` removed: the shape of a per-position result.
pub fn reduced_shape(shape: &[usize], axis: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    s.remove(axis);
    s
}

/// A standard-layout (C-contiguous) view of `a`, copying only when `a` is strided.
pub fn contiguous<'a, T: Clone>(a: &'a ArrayViewD<'a, T>) -> CowArray<'a, T, IxDyn> {
    a.as_standard_layout()
}

/// The elements of a standard-layout array as a slice.
///
/// # Panics
/// If `a` is not in standard layout (an internal bug: call [`contiguous`] first).
pub fn slice<'a, T>(a: &'a CowArray<'_, T, IxDyn>) -> &'a [T] {
    a.as_slice().expect("standard layout")
}

/// A zero-filled owned array of `shape`.
pub fn zeros<T: Clone + num_traits::Zero>(shape: &[usize]) -> ArrayD<T> {
    ArrayD::zeros(IxDyn(shape))
}

/// Product of the dimensions, with overflow reported as an error naming `what`.
///
/// # Errors
/// [`Error::Shape`] if the product overflows `usize`.
pub fn numel(op: &str, what: &str, shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::shape(op, format!("{what} shape {shape:?} has too many elements")))
}

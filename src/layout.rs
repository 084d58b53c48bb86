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
    // Saturating: the products can only overflow for an empty tensor (another axis is
    // 0), whose per-position results the ops refuse to allocate before getting here.
    let prod = |s: &[usize]| s.iter().fold(1usize, |a, &d| a.saturating_mul(d));
    Geom { outer: prod(&shape[..axis]), classes: shape[axis], inner: prod(&shape[axis + 1..]) }
}

/// `shape` with `axis` removed: the shape of a per-position result.
///
/// ```
/// assert_eq!(xent::layout::reduced_shape(&[2, 5, 3], 1), vec![2, 3]);
/// ```
pub fn reduced_shape(shape: &[usize], axis: usize) -> Vec<usize> {
    let mut s = shape.to_vec();
    s.remove(axis);
    s
}

/// A standard-layout (C-contiguous) view of `a`, copying only when `a` is strided.
///
/// ```
/// use ndarray::array;
/// let a = array![[1, 2], [3, 4]].into_dyn();
/// let t = a.t();
/// assert_eq!(xent::layout::contiguous(&t).as_slice(), Some(&[1, 3, 2, 4][..]));
/// ```
pub fn contiguous<'a, T: Clone>(a: &'a ArrayViewD<'a, T>) -> CowArray<'a, T, IxDyn> {
    a.as_standard_layout()
}

/// The elements of a standard-layout array as a slice.
///
/// # Panics
/// If `a` is not in standard layout (an internal bug: call [`contiguous`] first).
///
/// ```
/// use ndarray::array;
/// let a = array![[1.0f32, 2.0]].into_dyn();
/// let v = a.view();
/// let c = xent::layout::contiguous(&v);
/// assert_eq!(xent::layout::slice(&c), &[1.0, 2.0]);
/// ```
pub fn slice<'a, T>(a: &'a CowArray<'_, T, IxDyn>) -> &'a [T] {
    a.as_slice().expect("standard layout")
}

/// A zero-filled owned array of `shape`.
///
/// ```
/// let z = xent::layout::zeros::<f64>(&[2, 3]);
/// assert_eq!(z.shape(), &[2, 3]);
/// ```
pub fn zeros<T: Clone + num_traits::Zero>(shape: &[usize]) -> ArrayD<T> {
    ArrayD::zeros(IxDyn(shape))
}

/// An owned array of `shape` filled with `value`, allocated fallibly: a shape whose
/// element count or size in bytes overflows, or that the system cannot allocate, is an
/// [`Error::Shape`] naming `op` and `what`, never a panic or an abort. For outputs
/// whose size is not bounded by the inputs' (a one-hot depth, a per-position result
/// when the class axis has length 0).
///
/// # Errors
/// [`Error::Shape`] as above.
///
/// ```
/// let a = xent::layout::try_filled("op", "output", &[2, 3], 0.5f32).unwrap();
/// assert_eq!(a.shape(), &[2, 3]);
/// assert!(xent::layout::try_filled("op", "output", &[1 << 40, 1 << 40], 0u8).is_err());
/// assert!(xent::layout::try_filled("op", "output", &[1 << 60], 0f64).is_err());
/// ```
pub fn try_filled<T: Clone>(op: &str, what: &str, shape: &[usize], value: T) -> Result<ArrayD<T>> {
    let too_big =
        |bytes: String| Error::shape(op, format!("the {what} of shape {shape:?} would need {bytes} bytes, more than can be allocated"));
    // ndarray's rule: the product of the non-zero lengths, in bytes, must fit in isize.
    let nonzero = shape.iter().filter(|&&d| d != 0).try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let bytes = nonzero.and_then(|n| n.checked_mul(std::mem::size_of::<T>().max(1)));
    let Some(bytes) = bytes.filter(|&b| b <= isize::MAX as usize) else {
        let n: u128 = shape.iter().map(|&d| d as u128).fold(1u128, |a, d| a.saturating_mul(d.max(1)));
        return Err(too_big(format!("{}", n.saturating_mul(std::mem::size_of::<T>() as u128))));
    };
    let count = if shape.contains(&0) { 0 } else { nonzero.unwrap_or(0) };
    let mut v = Vec::new();
    v.try_reserve_exact(count).map_err(|_| too_big(bytes.to_string()))?;
    v.resize(count, value);
    ArrayD::from_shape_vec(IxDyn(shape), v).map_err(|e| Error::shape(op, format!("the {what} of shape {shape:?}: {e}")))
}

/// Product of the dimensions, with overflow reported as an error naming `what`.
///
/// # Errors
/// [`Error::Shape`] if the product overflows `usize`.
///
/// ```
/// assert_eq!(xent::layout::numel("op", "x", &[2, 3, 4]).unwrap(), 24);
/// assert!(xent::layout::numel("op", "x", &[usize::MAX, 2]).is_err());
/// ```
pub fn numel(op: &str, what: &str, shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::shape(op, format!("{what} shape {shape:?} has too many elements")))
}

//! Core ops: the numerics every front-end maps onto.
//!
//! Each op takes `ndarray` views, an explicit class axis (already normalised, see
//! [`crate::layout::normalize_axis`]) and a [`crate::Par`], checks shapes and labels,
//! and returns an owned array or writes into a caller buffer (`_into`). Each
//! differentiable op has a `_vjp` twin: given the upstream gradient `g` of the op's
//! output it returns the gradient with respect to the prediction input, exactly as the
//! framework's autograd does (each function says whose rule it follows).
//!
//! The ops are generic over [`Float`] (`f32`, `f64`) and compute in that type.

mod activations;
mod binary;
mod categorical;
mod fused;
mod kl;
mod linear;
pub mod masked;
mod probs;
mod sharded;

pub use activations::*;
pub use binary::*;
pub use categorical::*;
pub use fused::*;
pub use kl::*;
pub use linear::*;
pub use probs::*;
pub use sharded::*;

use crate::error::{Error, Result};
use crate::float::Float;

/// How a per-position loss is reduced to the op's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// No reduction: one loss per position.
    None,
    /// Sum over positions.
    Sum,
    /// The op's mean: PyTorch's weighted mean (`Σ loss / Σ w[y]` over non-ignored
    /// targets) for class-index targets, the plain mean over positions otherwise.
    #[default]
    Mean,
}

impl Reduction {
    /// Parse PyTorch's names: `none`, `sum`, `mean`.
    ///
    /// # Errors
    /// [`Error::Param`] for any other string.
    ///
    /// ```
    /// use xent::ops::Reduction;
    /// assert_eq!(Reduction::parse_torch("op", "sum").unwrap(), Reduction::Sum);
    /// assert!(Reduction::parse_torch("op", "avg").is_err());
    /// ```
    pub fn parse_torch(op: &str, s: &str) -> Result<Reduction> {
        match s {
            "none" => Ok(Reduction::None),
            "sum" => Ok(Reduction::Sum),
            "mean" => Ok(Reduction::Mean),
            other => Err(Error::param(op, "reduction", format!("`{other}` is not valid (expected none, mean or sum)"))),
        }
    }
}

/// Fail unless `a` and `b` have the same shape.
pub(crate) fn same_shape(op: &str, an: &str, a: &[usize], bn: &str, b: &[usize]) -> Result<()> {
    if a != b {
        return Err(Error::shape(op, format!("`{an}` has shape {a:?} but `{bn}` has shape {b:?}; they must be equal")));
    }
    Ok(())
}

/// Fail unless the upstream gradient has the output's shape.
pub(crate) fn check_grad(op: &str, g: &[usize], out: &[usize]) -> Result<()> {
    if g != out {
        return Err(Error::shape(op, format!("upstream gradient has shape {g:?}, the output has shape {out:?}")));
    }
    Ok(())
}

/// `T::of(x)` for literal constants.
#[inline(always)]
pub(crate) fn c<T: Float>(x: f64) -> T {
    T::of(x)
}

/// Fail unless the upstream gradient `g` has the output's shape (for front-ends).
///
/// # Errors
/// [`Error::Shape`] naming `op` and both shapes.
///
/// ```
/// assert!(xent::ops::check_grad_pub("op", &[2, 3], &[2, 3]).is_ok());
/// let e = xent::ops::check_grad_pub("op", &[3], &[]).unwrap_err();
/// assert!(e.to_string().contains("upstream gradient has shape [3]"));
/// ```
pub fn check_grad_pub(op: &str, g: &[usize], out: &[usize]) -> Result<()> {
    check_grad(op, g, out)
}

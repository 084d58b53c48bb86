//! xent: softmax, log-softmax and the cross-entropies of TensorFlow/Keras and PyTorch.
#![warn(missing_docs)]

pub mod array;
pub mod bench;
pub mod error;
pub mod float;
pub mod kernels;

pub use array::{DType, DynArray};
pub use error::{Error, Result};
pub use float::Float;
pub use kernels::Par;

//! xent: softmax, log-softmax and the cross-entropies of TensorFlow/Keras and PyTorch.
#![warn(missing_docs)]

pub mod array;
pub mod bench;
pub mod demo;
pub mod error;
pub mod float;
pub mod jax;
pub mod keras;
pub mod kernels;
pub mod layout;
pub mod npy;
pub mod onnx;
pub mod ops;
pub mod registry;
pub mod rng;
pub mod sklearn;
pub mod tf;
pub mod torch;
pub mod train;

pub use array::{DType, DynArray};
pub use error::{Error, Result};
pub use float::Float;
pub use kernels::Par;

use std::sync::atomic::{AtomicUsize, Ordering};

/// 0 = sequential, usize::MAX = all threads, n = at most n tasks.
static DEFAULT_PAR: AtomicUsize = AtomicUsize::new(usize::MAX);

/// The parallelism the framework front-ends ([`tf`], [`keras`], [`torch`]) use,
/// which mirror the frameworks' signatures and so take no [`Par`] argument. The core
/// ops and kernels always take it explicitly. Default: every thread of the current
/// rayon pool.
///
/// ```
/// xent::set_default_par(xent::Par::Seq);
/// assert_eq!(xent::default_par(), xent::Par::Seq);
/// xent::set_default_par(xent::Par::Rayon(0));
/// assert_eq!(xent::default_par(), xent::Par::Rayon(0));
/// ```
pub fn default_par() -> Par {
    match DEFAULT_PAR.load(Ordering::Relaxed) {
        0 => Par::Seq,
        usize::MAX => Par::Rayon(0),
        n => Par::Rayon(n),
    }
}

/// Set what [`default_par`] returns (the CLI's `--threads`).
pub fn set_default_par(par: Par) {
    let v = match par {
        Par::Seq => 0,
        Par::Rayon(0) => usize::MAX,
        Par::Rayon(n) => n,
    };
    DEFAULT_PAR.store(v, Ordering::Relaxed);
}

/// The README's Rust examples, compiled and run as doctests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

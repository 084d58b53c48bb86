//! xent: softmax, log-softmax and the cross-entropies of TensorFlow/Keras and PyTorch,
//! with their gradients, exactly as each framework computes them (its defaults, axes,
//! reductions and quirks), fast on the CPU.
//!
//! # Which module when
//!
//! | you have | use | for example |
//! |---|---|---|
//! | `ndarray` arrays and PyTorch's semantics | [`torch`] | [`torch::cross_entropy`], [`torch::softmax`] |
//! | a training loop on `ndarray` | [`torch`]'s one-pass loss and gradient | [`torch::cross_entropy_with_grad`], [`torch::cross_entropy_with_grad_in_place`] |
//! | candle tensors and `backward()` | `candle` (feature `candle`) | `xent::candle::cross_entropy` |
//! | TensorFlow's `tf.nn` functions | [`tf`] | [`tf::sparse_softmax_cross_entropy_with_logits`] |
//! | Keras losses (functions and loss classes) | [`keras`] | [`keras::categorical_crossentropy`], [`keras::SparseCategoricalCrossentropy`] |
//! | an explicit class axis and thread count, no framework rules | [`ops`] | [`ops::cross_entropy_sparse`], [`ops::cross_entropy_sparse_fused`] |
//! | raw slices (`(outer, classes, inner)` geometry) | [`kernels`] | preconditions are the caller's: they panic on bad lengths or labels |
//! | an op chosen by name, parameters as JSON (the CLI's table) | `registry` (feature `registry`) | `xent::registry::eval` |
//! | `.npy` files | [`npy`] | [`npy::read`], [`npy::write`] |
//!
//! Every function that can fail returns [`Result`] with an [`Error`] naming the op,
//! the input and the shapes: bad input never panics in the front-ends, the core ops
//! and the candle module. The `_grad` functions return what the framework's autograd
//! puts in `input.grad` for a given upstream gradient; the `_with_grad` functions
//! return a reduced loss and write its gradient in the same call.
//!
//! Element types: `f32` and `f64` ([`Float`]) everywhere; `f16` and `bf16` through the
//! candle module, the half-precision kernels and the op table (computed in `f32`,
//! rounded once). Inputs: any `ndarray` array or view (`&Array2`, `ArrayView3`,
//! `&ArrayD`, …) in [`torch`]; `ArrayViewD` elsewhere. Class indices: `i64`, or any
//! integer type ([`Label`]) in the one-pass API, the candle module and
//! [`torch::nll_loss`]. `xent::ndarray` and `xent::half` re-export the versions xent
//! uses. Threads: [`set_default_par`] (the front-ends), or a [`Par`] argument (the core
//! ops and kernels).
//!
//! # A training loop on ndarray
//!
//! Softmax regression with the one-pass loss and gradient: one call per step computes
//! the mean cross-entropy and writes `d loss / d logits` (the fused kernel reads each
//! row of logits once).
//!
//! ```
//! use xent::ndarray::{array, Array1, Array2, Axis};
//! use xent::torch::{cross_entropy_with_grad, CrossEntropyArgs};
//!
//! let x = array![[1.0f32, 0.2], [0.9, -0.1], [-1.0, 0.8], [-0.8, 1.1], [0.1, -1.2], [-0.2, -0.9]];
//! let y = [0u8, 0, 1, 1, 2, 2]; // labels of any integer type
//! let (mut w, mut b) = (Array2::<f32>::zeros((2, 3)), Array1::<f32>::zeros(3));
//! let mut grad = Array2::<f32>::zeros((6, 3));
//! let args = CrossEntropyArgs::default(); // PyTorch's: mean, ignore_index = -100
//! let mut losses = Vec::new();
//! for _ in 0..100 {
//!     let logits = x.dot(&w) + &b;
//!     let loss = cross_entropy_with_grad(&logits, &y, &args, 1.0, &mut grad)?;
//!     w -= &(x.t().dot(&grad) * 0.5); // chain rule through logits = x·w + b
//!     b -= &(grad.sum_axis(Axis(0)) * 0.5);
//!     losses.push(loss);
//! }
//! assert!(losses[99] < 0.1 * losses[0]);
//! # Ok::<(), xent::Error>(())
//! ```
//!
//! [`torch::cross_entropy_with_grad_in_place`] overwrites the logits with their
//! gradient instead (no second buffer); `args` carries PyTorch's `weight`,
//! `ignore_index`, `label_smoothing` and `reduction`, and the upstream gradient is a
//! plain scalar.
//!
//! # With candle's autograd
//!
//! With the feature `candle`, `xent::candle` takes and returns `candle_core::Tensor`s
//! and records each function in candle's graph, so `backward()` fills the gradients
//! (float32/64, float16, bfloat16 on the CPU, any layout, labels u8/u32/i64/…):
//!
#![cfg_attr(feature = "candle", doc = "```")]
#![cfg_attr(not(feature = "candle"), doc = "```ignore")]
//! use candle_core::{DType, Device, Tensor, Var};
//! use xent::candle::{cross_entropy, CrossEntropyArgs};
//!
//! # fn main() -> candle_core::Result<()> {
//! let dev = Device::Cpu;
//! let x = Tensor::new(&[[1.0f32, 0.2], [-1.0, 0.8], [0.1, -1.2]], &dev)?;
//! let y = Tensor::new(&[0u32, 1, 2], &dev)?;
//! let w = Var::from_tensor(&Tensor::zeros((2, 3), DType::F32, &dev)?)?;
//! for _ in 0..50 {
//!     let logits = x.matmul(w.as_tensor())?;
//!     let loss = cross_entropy(&logits, &y, &CrossEntropyArgs::default())?;
//!     let grads = loss.backward()?;
//!     let gw = grads.get(&w).expect("w is a variable");
//!     w.set(&(w.as_tensor() - (gw * 0.5)?)?)?;
//! }
//! let logits = x.matmul(w.as_tensor())?;
//! assert_eq!(logits.argmax(1)?.to_vec1::<u32>()?, vec![0, 1, 2]);
//! # Ok(())
//! # }
//! ```
//!
//! `examples/candle_train.rs` trains a classifier this way and checks every function
//! of the module, in every dtype, against candle's own ops and finite differences.
//!
//! # Features
//!
//! * `cli` (default): the `xent` binary (clap, indicatif) and its runners; enables `registry`.
//! * `registry`: the op table `xent::registry` (serde_json for parameter values).
//! * `candle`: `xent::candle` (candle-core; candle-nn for the benchmark peer).
//!
//! A library-only dependant writes `xent = { version = "0.1", default-features = false }`
//! and builds ndarray, num-traits, rayon, half, thiserror and gemm (the fused linear cross-entropy) only.
#![warn(missing_docs)]

pub mod array;
#[cfg(feature = "cli")]
#[doc(hidden)] // the runner of `xent bench`: serves the binary, not library API
pub mod bench;
#[cfg(feature = "candle")]
pub mod candle;
pub mod cce;
#[cfg(feature = "cli")]
#[doc(hidden)] // the steps of `xent demo`: serves the binary, not library API
pub mod demo;
pub mod error;
#[cfg(feature = "registry")]
pub mod explain;
pub mod float;
pub mod jax;
pub mod keras;
pub mod kernels;
pub mod label;
pub mod layout;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod npy;
pub mod onnx;
pub mod ops;
#[cfg(feature = "registry")]
pub mod registry;
pub mod rng;
pub mod sklearn;
pub mod tf;
pub mod torch;
#[cfg(feature = "cli")]
#[doc(hidden)] // the runner of `xent train`: serves the binary, not library API
pub mod train;

/// The `half` version of xent's `f16`/`bf16` inputs.
pub use half;
/// The `ndarray` version xent's API takes and returns, so a dependant needs no second copy.
pub use ndarray;

pub use array::{DType, DynArray, DynView};
pub use error::{Error, Result};
pub use float::Float;
pub use kernels::Par;
pub use label::Label;

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
///
/// ```
/// xent::set_default_par(xent::Par::Rayon(2)); // at most 2 tasks per front-end call
/// assert_eq!(xent::default_par(), xent::Par::Rayon(2));
/// xent::set_default_par(xent::Par::all());
/// ```
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

//! Vocabulary-parallel cross-entropy across MPI processes (feature `mpi`): the
//! classes of the logits (or the rows of the fused op's `linear_weight`) are split
//! into contiguous blocks, one per process, and the losses and gradients equal the
//! single-process ones ([`crate::ops::cross_entropy_sparse`],
//! [`crate::ops::linear_cross_entropy`]: PyTorch 2.15's `cross_entropy` and
//! `linear_cross_entropy` with class-index targets) up to summation order.
//!
//! xent never initialises MPI: every function takes the caller's communicator
//! (anything implementing [`mpi::topology::Communicator`], e.g. `universe.world()` or
//! a split of it), and every process of that communicator must make the same call
//! with the same targets and options. Process `r` (by rank) holds classes
//! `o_r..o_r + C_r`; the offsets are derived from an all-gather of the shard sizes
//! (blocks in rank order, any sizes, empty allowed), so nothing but the local block
//! is passed. [`crate::ops::even_shard`] is the split `xent eval --shard-classes` uses.
//!
//! # Formula and communication
//! Per row `i` with target `y_i`: the row max `M_i` (all-reduce MAX); then
//! `S_i = Σ_c exp(x_{i,c} − M_i)`, `D_i = M_i − x_{i,y_i}`, with label smoothing
//! `Z_i = Σ_c w_c (M_i − x_{i,c})` and with class weights `w_{y_i}`, summed over the
//! processes in one all-reduce SUM of a packed buffer; then on every process
//! `ℓ_i = (1 − ε)·w_y·(D_i + ln S_i) + (ε/C)·(Z_i + ln S_i·Σ_c w_c)`: PyTorch's label
//! smoothing over all `C` classes, not Megatron-LM's per-rank approximation. The
//! gradient of each process's columns,
//! `s_i·((1 − ε)·w_y·(p_{i,c} − [c = y_i]) + (ε/C)·(p_{i,c}·Σw − w_c))`,
//! `p_{i,c} = exp((x_{i,c} − M_i) − ln S_i)`, needs nothing more.
//!
//! | op | collectives | values per row |
//! |---|---|---|
//! | [`cross_entropy`] | 1 all-gather (6 `u64` per process), 1 MAX, 1 SUM | 1 (MAX) + 2, +1 with smoothing, +1 with class weights (SUM) |
//! | [`linear_cross_entropy`] | the same per block of rows, + 1 SUM of `N + 1` values up front with class weights | 1 (MAX) + 2, +1 with smoothing (SUM) |
//! | [`linear_cross_entropy_vjp`] | as the forward, + 1 SUM of `d input` (`N·D` values) unless [`InputGrad::Partial`] | as the forward |
//!
//! One value is 4 bytes in float32, 8 in float64: 16 to 20 bytes per row in float32
//! against the row's `4·C` bytes of logits. The SUM of [`cross_entropy`] carries one
//! more value per call with class weights (`Σ_c w_c`). The all-gather also carries a
//! fingerprint of the targets and options and each process's own verdict on its
//! inputs, so that a bad input on any process is an error on every process (with the
//! same message), never a hang in a collective.
//!
//! # Exactness
//! Each shard's statistics come from the single-process kernels; only the order of
//! the sums differs (per shard, then across shards in rank order, each shard's sum of
//! exps rescaled by one `exp(m_r − M)`). Results agree with the single-process op to a
//! few units in the last place of the type, float32 or float64, on any number of
//! processes and any split of the classes; `tests/mpi.rs` runs 1 to 4 processes under
//! `mpirun` and checks values and every gradient against the single process.
//!
//! # Example
//! Run with `mpirun -np 3 target/debug/examples/mpi_cross_entropy` (this is
//! `examples/mpi_cross_entropy.rs`, which `tests/mpi.rs` runs under `mpirun`):
//! ```no_run
#![doc = include_str!("../examples/mpi_cross_entropy.rs")]
//! ```

use ::mpi::collective::{CommunicatorCollectives, SystemOperation};
use ::mpi::datatype::Equivalence;
use ::mpi::topology::Communicator;
use ndarray::{Array2, ArrayD, ArrayView2, ArrayViewD};

use crate::error::Result;
use crate::float::Float;
use crate::kernels::Par;
use crate::ops::{self, Collectives, InputGrad, LinearCeOptions, LinearGrads, LinearWants, SparseOptions};

/// The element types the MPI functions take: `f32` and `f64`.
pub trait MpiFloat: Float + Equivalence {}
impl<T: Float + Equivalence> MpiFloat for T {}

/// An MPI communicator as the [`Collectives`] of the sharded ops.
///
/// ```no_run
/// use mpi::topology::Communicator;
/// use xent::ops::Collectives;
/// let universe = mpi::initialize().unwrap();
/// let world = universe.world();
/// let comm = xent::mpi::Comm(&world);
/// assert_eq!(Collectives::<f32>::size(&comm), world.size() as usize);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Comm<'c, C: ?Sized>(pub &'c C);

/// The most elements one MPI call moves (MPI counts are `int`).
const MAX_COUNT: usize = 1 << 30;

impl<T: MpiFloat, C: Communicator + ?Sized> Collectives<T> for Comm<'_, C> {
    fn size(&self) -> usize {
        self.0.size() as usize
    }
    fn rank(&self) -> usize {
        self.0.rank() as usize
    }
    fn all_gather(&self, mine: &[u64]) -> Vec<u64> {
        let mut all = vec![0u64; mine.len() * Collectives::<T>::size(self)];
        self.0.all_gather_into(mine, &mut all[..]);
        all
    }
    fn all_reduce_max(&self, buf: &mut [T]) {
        for part in buf.chunks_mut(MAX_COUNT) {
            let send = part.to_vec();
            self.0.all_reduce_into(&send[..], part, SystemOperation::max());
        }
    }
    fn all_reduce_sum(&self, buf: &mut [T]) {
        for part in buf.chunks_mut(MAX_COUNT) {
            let send = part.to_vec();
            self.0.all_reduce_into(&send[..], part, SystemOperation::sum());
        }
    }
}

/// PyTorch's `cross_entropy` (class-index targets) over logits whose classes are
/// sharded across the processes of `comm`: `logits` is this process's `(N, C_r)`
/// block, `o.weight` its `C_r` class weights; `target` (`N` indices into all `C`
/// classes) and the other options the same on every process. Returns the loss on
/// every process: `(N)` for `Reduction::None`, else 0-d. See
/// [`ops::cross_entropy_sharded`] for the errors (returned on every process alike).
///
/// # Errors
/// As [`ops::cross_entropy_sharded`].
///
/// ```no_run
/// use ndarray::array;
/// use mpi::topology::Communicator;
/// let universe = mpi::initialize().unwrap();
/// let world = universe.world();
/// // every process holds one class of each row
/// let x = array![[world.rank() as f32]];
/// let loss = xent::mpi::cross_entropy(&world, &x.view(), &[0], &Default::default(), xent::Par::Seq).unwrap();
/// ```
pub fn cross_entropy<T: MpiFloat, C: Communicator + ?Sized>(
    comm: &C,
    logits: &ArrayView2<'_, T>,
    target: &[i64],
    o: &SparseOptions<'_, T>,
    par: Par,
) -> Result<ArrayD<T>> {
    ops::cross_entropy_sharded(&Comm(comm), logits, target, o, par)
}

/// [`cross_entropy`] and the gradient with respect to this process's block of the
/// logits (`(N, C_r)`), given the upstream gradient `g` of the loss (0-d for mean and
/// sum, `(N)` for none; the same on every process). No communication beyond the
/// forward's.
///
/// # Errors
/// As [`ops::cross_entropy_sharded_vjp`].
///
/// ```no_run
/// use ndarray::array;
/// let universe = mpi::initialize().unwrap();
/// let world = universe.world();
/// let x = array![[0.5f64, 1.5]];
/// let g = ndarray::arr0(1.0).into_dyn();
/// let (loss, dx) = xent::mpi::cross_entropy_vjp(&world, &x.view(), &[1], &Default::default(), &g.view(), xent::Par::Seq).unwrap();
/// assert_eq!(dx.dim(), (1, 2));
/// ```
pub fn cross_entropy_vjp<T: MpiFloat, C: Communicator + ?Sized>(
    comm: &C,
    logits: &ArrayView2<'_, T>,
    target: &[i64],
    o: &SparseOptions<'_, T>,
    g: &ArrayViewD<'_, T>,
    par: Par,
) -> Result<(ArrayD<T>, Array2<T>)> {
    ops::cross_entropy_sharded_vjp(&Comm(comm), logits, target, o, g, par)
}

/// PyTorch's `linear_cross_entropy` (class-index targets) with `linear_weight`
/// sharded by class across the processes of `comm`: `input` `(N, D)` and `target` the
/// same on every process, `linear_weight` this process's `(C_r, D)` block of rows,
/// `o.bias` / `o.weight` its `C_r` entries. The logits are computed in blocks of
/// rows within `o.chunk_bytes` per process and never exist whole; the loss is
/// returned on every process.
///
/// # Errors
/// As [`ops::linear_cross_entropy_sharded`].
///
/// ```no_run
/// use ndarray::Array2;
/// let universe = mpi::initialize().unwrap();
/// let world = universe.world();
/// let x = Array2::<f32>::ones((4, 8));
/// let w_block = Array2::<f32>::zeros((100, 8)); // this process's 100 classes
/// let loss = xent::mpi::linear_cross_entropy(&world, &x.view(), &w_block.view(), &[0, 1, 2, 3], &Default::default(), xent::Par::all()).unwrap();
/// ```
pub fn linear_cross_entropy<T: MpiFloat, C: Communicator + ?Sized>(
    comm: &C,
    input: &ArrayView2<'_, T>,
    linear_weight: &ArrayView2<'_, T>,
    target: &[i64],
    o: &LinearCeOptions<'_, T>,
    par: Par,
) -> Result<ArrayD<T>> {
    ops::linear_cross_entropy_sharded(&Comm(comm), input, linear_weight, target, o, par)
}

/// Loss and gradients of [`linear_cross_entropy`] given the upstream gradient `g`
/// (0-d for mean and sum, `(N)` for none): `d linear_weight` and `d bias` are this
/// process's blocks (no communication); `d input` is all-reduced
/// ([`InputGrad::AllReduce`], one SUM of `N·D` values) or this process's part
/// ([`InputGrad::Partial`]) for the caller to sum.
///
/// # Errors
/// As [`ops::linear_cross_entropy_sharded_vjp`].
///
/// ```no_run
/// use ndarray::Array2;
/// use xent::ops::{InputGrad, LinearWants};
/// let universe = mpi::initialize().unwrap();
/// let world = universe.world();
/// let x = Array2::<f32>::ones((2, 8));
/// let w_block = Array2::<f32>::zeros((100, 8));
/// let g = ndarray::arr0(1.0f32).into_dyn();
/// let r = xent::mpi::linear_cross_entropy_vjp(&world, &x.view(), &w_block.view(), &[5, 7], &Default::default(), &g.view(), LinearWants::ALL, InputGrad::AllReduce, xent::Par::all()).unwrap();
/// assert_eq!(r.linear_weight.unwrap().dim(), (100, 8));
/// ```
#[allow(clippy::too_many_arguments)] // the fused op's inputs, options, upstream gradient and modes
pub fn linear_cross_entropy_vjp<T: MpiFloat, C: Communicator + ?Sized>(
    comm: &C,
    input: &ArrayView2<'_, T>,
    linear_weight: &ArrayView2<'_, T>,
    target: &[i64],
    o: &LinearCeOptions<'_, T>,
    g: &ArrayViewD<'_, T>,
    wants: LinearWants,
    input_grad: InputGrad,
    par: Par,
) -> Result<LinearGrads<T>> {
    ops::linear_cross_entropy_sharded_vjp(&Comm(comm), input, linear_weight, target, o, g, wants, input_grad, par)
}

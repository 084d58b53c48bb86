// Vocabulary-parallel cross-entropy: every MPI process holds a block of the classes
// of the logits; the loss and the gradient equal the single-process ones.
// Run with `mpirun -np 3 target/debug/examples/mpi_cross_entropy`
// (tests/mpi.rs runs this file under mpirun with 1 to 4 processes).
use mpi::topology::Communicator;
use ndarray::{s, Array2, ArrayD, IxDyn};
use xent::ops::{cross_entropy_sparse, cross_entropy_sparse_vjp, even_shard, Reduction, SparseOptions};

pub fn main() {
    let universe = mpi::initialize().expect("MPI initialised once");
    let world = universe.world();
    let (rank, size) = (world.rank() as usize, world.size() as usize);

    // The full problem (every process can make it here; a real job holds only its block).
    let (n, classes) = (6, 10);
    let logits = Array2::from_shape_fn((n, classes), |(i, c)| ((i * 7 + c * 3) % 11) as f32 * 0.5 - 2.0);
    let target = [3i64, -100, 9, 0, 5, 9];
    let weight: Vec<f32> = (0..classes).map(|c| 1.0 + c as f32 / 10.0).collect();

    // This process's block of the classes, and of the class weights.
    let sh = even_shard(classes, size, rank);
    let block = logits.slice(s![.., sh.offset..sh.offset + sh.len]);
    let w = &weight[sh.offset..sh.offset + sh.len];
    let o = SparseOptions { label_smoothing: 0.1, weight: Some(w), ignore_index: Some(-100), reduction: Reduction::Mean };
    let g = ndarray::arr0(1.0f32).into_dyn();
    let (loss, dblock) = xent::mpi::cross_entropy_vjp(&world, &block, &target, &o, &g.view(), xent::Par::Seq).unwrap();

    // The same on one process.
    let o1 = SparseOptions { weight: Some(&weight), ..o };
    let y = ArrayD::from_shape_vec(IxDyn(&[n]), target.to_vec()).unwrap();
    let want = cross_entropy_sparse(&logits.view().into_dyn(), 1, &y.view(), &o1, xent::Par::Seq).unwrap();
    let dwant = cross_entropy_sparse_vjp(&logits.view().into_dyn(), 1, &y.view(), &o1, &g.view(), xent::Par::Seq).unwrap();
    assert!((loss[[]] - want[[]]).abs() <= 4.0 * f32::EPSILON * want[[]].abs(), "{loss} vs {want}");
    for ((i, c), &v) in dblock.indexed_iter() {
        assert!((v - dwant[[i, sh.offset + c]]).abs() <= 1e-7, "row {i}, class {}", sh.offset + c);
    }
    println!("rank {rank}/{size}: classes {}..{}, loss {} (one process: {})", sh.offset, sh.offset + sh.len, loss[[]], want[[]]);
}

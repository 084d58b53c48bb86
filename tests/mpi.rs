//! Vocabulary-parallel cross-entropy under real MPI (feature `mpi`): every test here
//! launches `mpirun --allow-run-as-root --oversubscribe -np R` for R = 1..4 (or the
//! counts in `XENT_MPI_NP`, e.g. `1,4`) and fails when a process fails or a result
//! differs from the single-process one.
//!
//! * the library: this test binary itself under mpirun ([`child`], `XENT_MPI_CHILD=lib`):
//!   `xent::mpi::cross_entropy(_vjp)` with ignore_index, class weights, smoothing and
//!   each reduction, and `linear_cross_entropy(_vjp)` (loss, `d input` all-reduced and
//!   partial, `d linear_weight`, `d bias`), in float32 and float64, on the even split and
//!   on uneven ones (an empty shard, a process with one class), against
//!   `xent::ops`' single-process ops; and a bad input on one process is an error on all;
//! * the module's doc example (`examples/mpi_cross_entropy.rs`, `XENT_MPI_CHILD=example`);
//! * the command line: `mpirun -np R xent eval OP ... --shard-classes` against
//!   `xent eval OP ...`, values and every gradient, and its errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray::{s, Array2, ArrayD, IxDyn};
use xent::ops::{
    cross_entropy_sparse, cross_entropy_sparse_vjp, even_shard, linear_cross_entropy_vjp, InputGrad, LinearCeOptions, LinearTarget,
    LinearWants, Reduction, SparseOptions,
};
use xent::{DynArray, Par};

mod example {
    include!("../examples/mpi_cross_entropy.rs");
}

/// The process counts to run.
fn counts() -> Vec<usize> {
    match std::env::var("XENT_MPI_NP") {
        Ok(v) => v.split(',').map(|s| s.trim().parse().expect("XENT_MPI_NP: counts such as 1,2,3,4")).collect(),
        Err(_) => vec![1, 2, 3, 4],
    }
}

fn mpirun(np: usize) -> Command {
    let mut c = Command::new("mpirun");
    c.args(["--allow-run-as-root", "--oversubscribe", "-np", &np.to_string()]);
    c
}

fn show(o: &Output) -> String {
    format!("status {}\nstdout:\n{}\nstderr:\n{}", o.status, String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Run this test binary's [`child`] under mpirun in `mode`: every process must exit 0
/// and leave its marker file (written only after its checks passed). The markers, not
/// the processes' forwarded stdout, are counted: mpirun interleaves that output in
/// fragments, even with `--tag-output`.
fn run_child(np: usize, mode: &str) {
    let exe = std::env::current_exe().unwrap();
    let done = std::env::temp_dir().join(format!("xent-mpi-done-{}-{mode}-{np}", std::process::id()));
    let _ = std::fs::remove_dir_all(&done);
    std::fs::create_dir_all(&done).unwrap();
    let o = mpirun(np)
        .arg(exe)
        .args(["--exact", "child", "--ignored", "--nocapture", "--test-threads=1"])
        .env("XENT_MPI_CHILD", mode)
        .env("XENT_MPI_DONE", &done)
        .output()
        .expect("mpirun runs (Debian: apt-get install openmpi-bin)");
    assert!(o.status.success(), "mpirun -np {np} ({mode}) failed:\n{}", show(&o));
    let passed = std::fs::read_dir(&done).unwrap().count();
    let _ = std::fs::remove_dir_all(&done);
    assert_eq!(passed, np, "processes whose checks passed, of {np}\n{}", show(&o));
}

#[test]
fn library_equals_single_process() {
    for np in counts() {
        run_child(np, "lib");
    }
}

#[test]
fn doc_example_runs() {
    for np in counts() {
        run_child(np, "example");
    }
}

/// The body of the processes that the tests above launch under mpirun (does nothing
/// when run directly).
#[test]
#[ignore = "run by library_equals_single_process and doc_example_runs under mpirun"]
fn child() {
    match std::env::var("XENT_MPI_CHILD").as_deref() {
        Ok("lib") => library_checks(),
        Ok("example") => example::main(),
        _ => return,
    }
    // reached only when this process's checks passed (a failed check panics)
    if let Some(dir) = std::env::var_os("XENT_MPI_DONE") {
        std::fs::write(std::path::Path::new(&dir).join(std::process::id().to_string()), b"ok").unwrap();
    }
}

// ---------------------------------------------------------------------------------
// The library, in each process.

fn close<T: xent::float::Float>(a: T, b: T, what: &str) {
    close_in(a, b, T::zero(), what);
}

/// `a` within a few ulps of the type (float32: 2^-23, float64: 2^-52) of `b`, relative
/// to `b` or to `scale`, the largest entry of its array: a gradient entry that is a
/// sum of products cancels (`d input = Σ_c dZ_c·W_c`), and the order of that sum
/// differs across shards.
fn close_in<T: xent::float::Float>(a: T, b: T, scale: T, what: &str) {
    let tol = 16.0 * T::EPSILON.f64() * b.f64().abs().max(scale.f64().abs()).max(1e-3);
    assert!((a.f64() - b.f64()).abs() <= tol || (a.is_nan() && b.is_nan()), "{what}: {a} vs {b} (single process)");
}

/// The largest magnitude in an array.
fn amax<'a, T: xent::float::Float>(v: impl Iterator<Item = &'a T>) -> T {
    v.fold(T::zero(), |m, &x| if x.abs() > m { x.abs() } else { m })
}

/// The splits of `c` classes over `size` processes to test: the even one, and
/// lopsided ones with an empty shard and a one-class shard.
fn splits(c: usize, size: usize) -> Vec<Vec<usize>> {
    let mut v = vec![(0..size).map(|r| even_shard(c, size, r).len).collect::<Vec<_>>()];
    if size > 1 {
        let mut a = vec![1; size];
        a[size - 1] = c - (size - 1);
        v.push(a);
        let mut b = vec![0; size];
        b[0] = 1;
        b[1] = c - 1;
        v.push(b);
    }
    v
}

fn library_checks() {
    let universe = mpi::initialize().unwrap();
    let world = universe.world();
    use mpi::topology::Communicator;
    let (rank, size) = (world.rank() as usize, world.size() as usize);
    check_ce::<f64>(&world, rank, size);
    check_ce::<f32>(&world, rank, size);
    check_linear::<f64>(&world, rank, size);
    check_linear::<f32>(&world, rank, size);
    // A bad input on one process: an error on every process, no hang.
    let x = Array2::<f64>::zeros((2, 2));
    let w = [1.0; 3];
    let o = SparseOptions { weight: Some(if rank == size - 1 { &w[..] } else { &w[..2] }), ..Default::default() };
    let e = xent::mpi::cross_entropy(&world, &x.view(), &[0, 1], &o, Par::Seq).unwrap_err().to_string();
    let want = if rank == size - 1 { "`weight` has 3 elements".to_string() } else { format!("process {} rejected its inputs", size - 1) };
    assert!(e.contains(&want), "rank {rank}: {e}");
}

fn data<T: xent::float::Float>(n: usize, c: usize, seed: usize) -> Array2<T> {
    Array2::from_shape_fn((n, c), |(i, j)| T::of((((i * 131 + j * 71 + seed * 17) % 97) as f64 - 48.0) / 9.0))
}

fn check_ce<T: xent::mpi::MpiFloat>(world: &mpi::topology::SimpleCommunicator, rank: usize, size: usize) {
    let (n, c) = (13, 10);
    let x = data::<T>(n, c, 1);
    let y: Vec<i64> = (0..n).map(|i| if i % 4 == 1 { -100 } else { ((i * 7) % c) as i64 }).collect();
    let w: Vec<T> = (0..c).map(|j| T::of(0.5 + (j % 3) as f64 * 0.75)).collect();
    let yv = ArrayD::from_shape_vec(IxDyn(&[n]), y.clone()).unwrap();
    for split in splits(c, size) {
        let off: usize = split[..rank].iter().sum();
        let len = split[rank];
        let xs = x.slice(s![.., off..off + len]);
        for (eps, weighted, red) in [
            (0.0, false, Reduction::Mean),
            (0.0, true, Reduction::Mean),
            (0.1, false, Reduction::Sum),
            (0.25, true, Reduction::Mean),
            (0.3, true, Reduction::None),
        ] {
            let o =
                SparseOptions { label_smoothing: T::of(eps), weight: weighted.then_some(&w[..]), ignore_index: Some(-100), reduction: red };
            let os = SparseOptions { weight: weighted.then_some(&w[off..off + len]), ..o };
            let g = if red == Reduction::None {
                ArrayD::from_shape_fn(IxDyn(&[n]), |i| T::of(1.0 + i[0] as f64 / 4.0))
            } else {
                ArrayD::from_elem(IxDyn(&[]), T::of(0.75))
            };
            let want = cross_entropy_sparse(&x.view().into_dyn(), 1, &yv.view(), &o, Par::Seq).unwrap();
            let dwant = cross_entropy_sparse_vjp(&x.view().into_dyn(), 1, &yv.view(), &o, &g.view(), Par::Seq).unwrap();
            let what = format!("cross_entropy {} split {split:?} eps {eps} weighted {weighted} {red:?}", std::any::type_name::<T>());
            let l = xent::mpi::cross_entropy(world, &xs, &y, &os, Par::Seq).unwrap();
            let (l2, d) = xent::mpi::cross_entropy_vjp(world, &xs, &y, &os, &g.view(), Par::Seq).unwrap();
            assert_eq!(l.shape(), want.shape(), "{what}");
            for ((&a, &b), &v) in l.iter().zip(l2.iter()).zip(want.iter()) {
                close(a, v, &what);
                close(b, v, &what);
            }
            let sc = amax(dwant.iter());
            for ((i, j), &v) in d.indexed_iter() {
                close_in(v, dwant[[i, off + j]], sc, &format!("{what}: d logits [{i}, {}]", off + j));
            }
        }
    }
}

fn check_linear<T: xent::mpi::MpiFloat>(world: &mpi::topology::SimpleCommunicator, rank: usize, size: usize) {
    let (n, d, c) = (11, 6, 10);
    let x = data::<T>(n, d, 2).mapv(|v| v * T::of(0.5));
    let lw = data::<T>(c, d, 3).mapv(|v| v * T::of(0.3));
    let b: Vec<T> = (0..c).map(|j| T::of((j as f64 - 4.5) / 5.0)).collect();
    let w: Vec<T> = (0..c).map(|j| T::of(1.5 - (j % 4) as f64 * 0.25)).collect();
    let y: Vec<i64> = (0..n).map(|i| if i == 6 { -100 } else { ((i * 3 + 1) % c) as i64 }).collect();
    for split in splits(c, size) {
        let off: usize = split[..rank].iter().sum();
        let len = split[rank];
        let lws = lw.slice(s![off..off + len, ..]);
        for (eps, weighted, bias, red, chunk) in [
            (0.0, false, false, Reduction::Mean, 1 << 20),
            (0.1, true, true, Reduction::Mean, 64),
            (0.2, true, true, Reduction::None, 1),
            (0.0, false, true, Reduction::Sum, 200),
        ] {
            let o = LinearCeOptions {
                bias: bias.then_some(&b[..]),
                weight: weighted.then_some(&w[..]),
                ignore_index: Some(-100),
                label_smoothing: T::of(eps),
                reduction: red,
                chunk_bytes: chunk,
                ..Default::default()
            };
            let os =
                LinearCeOptions { bias: bias.then_some(&b[off..off + len]), weight: weighted.then_some(&w[off..off + len]), ..o.clone() };
            let g = if red == Reduction::None {
                ArrayD::from_shape_fn(IxDyn(&[n]), |i| T::of(0.5 + i[0] as f64))
            } else {
                ArrayD::from_elem(IxDyn(&[]), T::of(1.25))
            };
            let want =
                linear_cross_entropy_vjp(&x.view(), &lw.view(), &LinearTarget::Indices(&y), &o, &g.view(), LinearWants::ALL, Par::Seq)
                    .unwrap();
            let what = format!(
                "linear_cross_entropy {} split {split:?} eps {eps} weighted {weighted} bias {bias} {red:?} chunk {chunk}",
                std::any::type_name::<T>()
            );
            let l = xent::mpi::linear_cross_entropy(world, &x.view(), &lws, &y, &os, Par::Seq).unwrap();
            let r = xent::mpi::linear_cross_entropy_vjp(
                world,
                &x.view(),
                &lws,
                &y,
                &os,
                &g.view(),
                LinearWants::ALL,
                InputGrad::AllReduce,
                Par::Seq,
            )
            .unwrap();
            let only_input = LinearWants { input: true, linear_weight: false, bias: false };
            let p =
                xent::mpi::linear_cross_entropy_vjp(world, &x.view(), &lws, &y, &os, &g.view(), only_input, InputGrad::Partial, Par::Seq)
                    .unwrap();
            for ((&a, &b2), &v) in l.iter().zip(r.loss.iter()).zip(want.loss.iter()) {
                close(a, v, &what);
                close(b2, v, &what);
            }
            let (wdx, wdw, wdb) = (want.input.as_ref().unwrap(), want.linear_weight.as_ref().unwrap(), want.bias.as_ref().unwrap());
            let (sx, sw, sb) = (amax(wdx.iter()), amax(wdw.iter()), amax(wdb.iter()));
            for ((i, j), &v) in r.input.unwrap().indexed_iter() {
                close_in(v, wdx[[i, j]], sx, &format!("{what}: d input [{i}, {j}]"));
            }
            // the partials sum to d input
            let mut part = p.input.unwrap();
            {
                use xent::ops::Collectives;
                let comm = xent::mpi::Comm(world);
                comm.all_reduce_sum(part.as_slice_mut().unwrap());
            }
            for ((i, j), &v) in part.indexed_iter() {
                close_in(v, wdx[[i, j]], sx, &format!("{what}: Σ partial d input [{i}, {j}]"));
            }
            for ((i, j), &v) in r.linear_weight.unwrap().indexed_iter() {
                close_in(v, wdw[[off + i, j]], sw, &format!("{what}: d linear_weight [{}, {j}]", off + i));
            }
            for (i, &v) in r.bias.unwrap().iter().enumerate() {
                close_in(v, wdb[off + i], sb, &format!("{what}: d bias [{}]", off + i));
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// The command line.

const XENT: &str = env!("CARGO_BIN_EXE_xent");

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("xent-mpi-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn put(&self, name: &str, a: DynArray) -> String {
        let p = self.0.join(name);
        xent::npy::write(&p, &a).unwrap();
        format!("{}", p.display())
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn eval_args(op: &str, inputs: &[(&str, &str)], params: &[&str], grad: Option<&str>, out: &Path) -> Vec<String> {
    let mut a = vec!["eval".to_string(), op.to_string(), "--threads".into(), "1".into()];
    for (n, p) in inputs {
        a.push("--input".into());
        a.push(format!("{n}={p}"));
    }
    for p in params {
        a.push("--param".into());
        a.push(p.to_string());
    }
    if let Some(g) = grad {
        a.push("--grad".into());
        a.push(g.into());
    }
    a.push("-o".into());
    a.push(out.display().to_string());
    a
}

fn compare(got: &DynArray, want: &DynArray, what: &str) {
    assert_eq!(got.dtype(), want.dtype(), "{what}");
    assert_eq!(got.shape(), want.shape(), "{what}");
    let eps = if want.dtype() == xent::DType::F32 { f32::EPSILON as f64 } else { f64::EPSILON };
    let w = want.to_f64();
    let scale = w.iter().fold(1e-3f64, |m, v| m.max(v.abs()));
    for (a, b) in got.to_f64().iter().zip(w.iter()) {
        assert!((a - b).abs() <= 16.0 * eps * scale || (a.is_nan() && b.is_nan()), "{what}: {a} vs {b}");
    }
}

/// A command-line case: op, inputs (name, path), parameters, gradient.
type Case<'a> = (String, Vec<(&'a str, String)>, Vec<&'a str>, Option<&'a str>);
/// An error case: op, inputs, what the one error line says.
type ErrCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn cli_equals_single_process() {
    let dir = Dir::new("cli");
    let (n, d) = (7, 5);
    let mut cases: Vec<Case> = Vec::new();
    let y: Vec<i64> = vec![3, -100, 9, 0, 4, 1, 4];
    let y5: Vec<i64> = vec![3, 4, 0, 0, 4, 1, 2];
    let tgt = dir.put("y.npy", DynArray::from(ArrayD::from_shape_vec(IxDyn(&[n]), y).unwrap()));
    let tgt5 = dir.put("y5.npy", DynArray::from(ArrayD::from_shape_vec(IxDyn(&[n]), y5).unwrap()));
    // C = 10 (4 processes: 3, 3, 2, 2) and C = 5 (4 processes: 2, 1, 1, 1)
    let x32 = dir.put("x32.npy", DynArray::from(data::<f32>(n, 10, 4).into_dyn()));
    let x64 = dir.put("x64.npy", DynArray::from(data::<f64>(n, 10, 5).into_dyn()));
    let x5 = dir.put("x5.npy", DynArray::from(data::<f32>(n, 5, 6).into_dyn()));
    let w10 = dir.put("w10.npy", DynArray::from(ArrayD::from_shape_fn(IxDyn(&[10]), |i| 0.5f32 + i[0] as f32 * 0.1)));
    let h = dir.put("h.npy", DynArray::from(data::<f32>(n, d, 7).mapv(|v| v * 0.4).into_dyn()));
    let lw = dir.put("lw.npy", DynArray::from(data::<f32>(10, d, 8).mapv(|v| v * 0.3).into_dyn()));
    let lw5 = dir.put("lw5.npy", DynArray::from(data::<f32>(5, d, 9).mapv(|v| v * 0.3).into_dyn()));
    let b10 = dir.put("b10.npy", DynArray::from(ArrayD::from_shape_fn(IxDyn(&[10]), |i| i[0] as f32 / 10.0 - 0.4)));
    let ce = "torch.nn.functional.cross_entropy";
    let lce = "torch.nn.functional.linear_cross_entropy";
    let ce_in = |x: &str, t: &str, w: bool| {
        let mut v = vec![("input", x.to_string()), ("target", t.to_string())];
        if w {
            v.push(("weight", w10.clone()));
        }
        v
    };
    cases.push((ce.into(), ce_in(&x32, &tgt, true), vec!["label_smoothing=0.1"], None));
    cases.push((ce.into(), ce_in(&x32, &tgt, true), vec!["label_smoothing=0.2", "reduction=none"], Some("input")));
    cases.push(("F.cross_entropy".into(), ce_in(&x64, &tgt, false), vec!["reduction=sum"], Some("input")));
    cases.push(("nn.CrossEntropyLoss".into(), ce_in(&x5, &tgt5, false), vec!["label_smoothing=0.3", "ignore_index=4"], Some("input")));
    let lce_in = |w: &str, full: bool| {
        let mut v = vec![("input", h.clone()), ("linear_weight", w.to_string()), ("target", if full { tgt.clone() } else { tgt5.clone() })];
        if full {
            v.push(("linear_bias", b10.clone()));
            v.push(("weight", w10.clone()));
        }
        v
    };
    // unbatched: one sample, (C) logits and a 0-d target, (D) input
    let x1 = dir.put("x1.npy", DynArray::from(data::<f32>(1, 10, 3).into_shape_with_order(10).unwrap().into_dyn()));
    let h1 = dir.put("h1.npy", DynArray::from(data::<f32>(1, d, 2).mapv(|v| v * 0.4).into_shape_with_order(d).unwrap().into_dyn()));
    let t0 = dir.put("t0.npy", DynArray::from(ndarray::arr0(7i64).into_dyn()));
    cases.push((ce.into(), ce_in(&x1, &t0, true), vec!["label_smoothing=0.1", "reduction=none"], None));
    cases.push((ce.into(), ce_in(&x1, &t0, true), vec!["label_smoothing=0.1"], Some("input")));
    let lce1 = vec![("input", h1.clone()), ("linear_weight", lw.clone()), ("target", t0.clone()), ("linear_bias", b10.clone())];
    cases.push((lce.into(), lce1.clone(), vec!["reduction=none"], None));
    cases.push((lce.into(), lce1.clone(), vec!["label_smoothing=0.2"], Some("input")));
    cases.push((lce.into(), lce1, vec![], Some("linear_bias")));
    cases.push((lce.into(), lce_in(&lw, true), vec!["label_smoothing=0.1"], None));
    for g in ["input", "linear_weight", "linear_bias"] {
        cases.push((lce.into(), lce_in(&lw, true), vec!["label_smoothing=0.1"], Some(g)));
    }
    cases.push((lce.into(), lce_in(&lw5, false), vec!["reduction=none"], Some("linear_weight")));
    cases.push((lce.into(), lce_in(&lw5, false), vec!["reduction=sum", "label_smoothing=0.05"], Some("input")));
    for (k, (op, inputs, params, grad)) in cases.iter().enumerate() {
        let inputs: Vec<(&str, &str)> = inputs.iter().map(|(a, b)| (*a, b.as_str())).collect();
        let want_p = dir.0.join(format!("want{k}.npy"));
        let o = Command::new(XENT).args(eval_args(op, &inputs, params, *grad, &want_p)).output().unwrap();
        assert!(o.status.success(), "single process: {}", show(&o));
        let want = xent::npy::read(&want_p).unwrap();
        for np in counts() {
            let got_p = dir.0.join(format!("got{k}-{np}.npy"));
            let o = mpirun(np).arg(XENT).args(eval_args(op, &inputs, params, *grad, &got_p)).arg("--shard-classes").output().unwrap();
            let what = format!("mpirun -np {np} xent eval {op} {params:?} --grad {grad:?}");
            assert!(o.status.success(), "{what}: {}", show(&o));
            compare(&xent::npy::read(&got_p).unwrap(), &want, &what);
        }
    }
}

#[test]
fn cli_errors_are_one_line_and_write_nothing() {
    let dir = Dir::new("err");
    let x = dir.put("x.npy", DynArray::from(data::<f32>(3, 6, 1).into_dyn()));
    let bad = dir.put("bad.npy", DynArray::from(ndarray::array![0i64, 6, 1].into_dyn()));
    let probs = dir.put("p.npy", DynArray::from(data::<f32>(3, 6, 2).into_dyn()));
    let t2 = dir.put("t2.npy", DynArray::from(ndarray::array![[0i64], [1], [2]].into_dyn()));
    let out = dir.0.join("out.npy");
    let cases: Vec<ErrCase> = vec![
        ("torch.softmax", vec![("input", x.as_str())], "--shard-classes runs torch.nn.functional.cross_entropy"),
        ("F.cross_entropy", vec![("input", x.as_str()), ("target", bad.as_str())], "torch.nn.functional.cross_entropy: label 6 at index 1"),
        ("F.cross_entropy", vec![("input", x.as_str()), ("target", probs.as_str())], "class probabilities are not supported"),
        ("F.cross_entropy", vec![("input", x.as_str()), ("target", "/nonexistent/t.npy")], "cannot read input `target`"),
        (
            "F.cross_entropy",
            vec![("input", x.as_str()), ("target", t2.as_str())],
            "`target` has shape [3, 1]; the input's batch shape is [3]",
        ),
    ];
    for np in counts() {
        for (op, inputs, msg) in &cases {
            let o = mpirun(np).arg(XENT).args(eval_args(op, inputs, &[], None, &out)).arg("--shard-classes").output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(!o.status.success(), "{op} -np {np}: {}", show(&o));
            let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("xent: error:")).collect();
            assert_eq!(lines.len(), 1, "{op} -np {np}: {}", show(&o));
            assert!(lines[0].contains(msg), "{op} -np {np}: {}", lines[0]);
            assert!(!out.exists(), "{op} -np {np}: an output was written");
        }
    }
}

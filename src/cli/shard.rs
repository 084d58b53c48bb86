//! `mpirun -np R xent eval OP ... --shard-classes`: the classes split evenly over the
//! MPI processes ([`xent::ops::even_shard`]); each process reads only its block of
//! the class-sharded inputs (the logits' columns, `linear_weight`'s rows, the class
//! weights and bias), the loss comes from `xent::mpi`, and process 0 writes the
//! output, gathering a sharded gradient first. Every failure is agreed on by all
//! processes (no process waits in a collective the others skipped) and reported in
//! one line by the lowest process that saw it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use mpi::point_to_point::{Destination, Source};
use mpi::topology::{Communicator, SimpleCommunicator};
use mpi::traits::CommunicatorCollectives;
use ndarray::{Array2, ArrayD, Axis, IxDyn};
use serde_json::Value;
use xent::ops::{even_shard, ClassShard, InputGrad, LinearCeOptions, LinearWants, Reduction, SparseOptions};
use xent::{DType, DynArray, Error};

/// How a sharded evaluation failed on this process.
pub enum Fail {
    /// This process's own error.
    Own(Error),
    /// Another process failed (it reports why).
    Elsewhere,
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Own(e)
    }
}

/// The ops `--shard-classes` runs, by their table names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    CrossEntropy,
    Linear,
}

fn kind(op: &str) -> Result<Kind, Error> {
    let spec = xent::registry::find(op)?;
    match spec.name {
        "torch.nn.functional.cross_entropy" | "torch.nn.CrossEntropyLoss" => Ok(Kind::CrossEntropy),
        "torch.nn.functional.linear_cross_entropy" => Ok(Kind::Linear),
        other => Err(Error::Usage(format!(
            "--shard-classes runs torch.nn.functional.cross_entropy (nn.CrossEntropyLoss) and torch.nn.functional.linear_cross_entropy, not {other}"
        ))),
    }
}

/// Run `f` (the whole of `xent eval`) with MPI initialised, then agree on the outcome:
/// the lowest process with an error of its own prints it; every process exits
/// non-zero when any failed.
pub fn run(f: impl FnOnce(&SimpleCommunicator) -> Result<(), Fail>) -> ExitCode {
    let Some(universe) = mpi::initialize() else {
        return super::fail(&Error::Usage("--shard-classes: MPI was already initialised".into()));
    };
    let world = universe.world();
    let r = f(&world);
    let mine = match &r {
        Ok(()) => 0u64,
        Err(Fail::Own(_)) => 1,
        Err(Fail::Elsewhere) => 2,
    };
    let mut all = vec![0u64; world.size() as usize];
    world.all_gather_into(&mine, &mut all[..]);
    let first = all.iter().position(|&v| v == 1);
    match r {
        Ok(()) if first.is_none() => ExitCode::SUCCESS,
        Err(Fail::Own(e)) if first == Some(world.rank() as usize) => super::fail(&e),
        Err(Fail::Own(e)) if e.is_usage() => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}

/// Agree on a phase that may fail on some processes only: `Err` on every process when
/// any failed.
fn agree<T>(world: &SimpleCommunicator, r: Result<T, Error>) -> Result<T, Fail> {
    let mine = u64::from(r.is_err());
    let mut all = vec![0u64; world.size() as usize];
    world.all_gather_into(&mine, &mut all[..]);
    match r {
        Err(e) => Err(Fail::Own(e)),
        Ok(_) if all.contains(&1) => Err(Fail::Elsewhere),
        Ok(v) => Ok(v),
    }
}

/// A parameter's value as given, or the op's default.
fn param(op: &str, params: &[(String, Value)], name: &str) -> Result<Value, Error> {
    if let Some((_, v)) = params.iter().find(|(k, _)| k == name) {
        return Ok(v.clone());
    }
    let spec = xent::registry::find(op)?;
    let p = spec.params.iter().find(|p| p.name == name).ok_or_else(|| Error::Usage(format!("{}: no parameter `{name}`", spec.name)))?;
    Ok(xent::registry::parse_value(p.default))
}

/// The loss's parameters: reduction, ignore_index (PyTorch's −100 for null), label_smoothing.
fn loss_params(op: &str, params: &[(String, Value)]) -> Result<(Reduction, i64, f64), Error> {
    let red = match param(op, params, "reduction")? {
        Value::String(s) => Reduction::parse_torch(op, &s)?,
        v => return Err(Error::Param { op: op.into(), param: "reduction".into(), msg: format!("expected a string, got {v}") }),
    };
    let ignore = match param(op, params, "ignore_index")? {
        Value::Null => -100,
        v => v.as_i64().ok_or_else(|| Error::Param {
            op: op.into(),
            param: "ignore_index".into(),
            msg: format!("expected an integer, got {v}"),
        })?,
    };
    let eps = param(op, params, "label_smoothing")?.as_f64().ok_or_else(|| Error::Param {
        op: op.into(),
        param: "label_smoothing".into(),
        msg: "expected a number".into(),
    })?;
    Ok((red, ignore, eps))
}

/// The class-sharded inputs of this process and the whole ones.
struct Inputs {
    dtype: DType,
    /// CE: the `(N, C_r)` logits block; linear: the `(N, D)` input.
    x: DynArray,
    /// linear: the `(C_r, D)` block of `linear_weight`.
    lw: Option<DynArray>,
    target: Vec<i64>,
    weight: Option<DynArray>,
    bias: Option<DynArray>,
    shard: ClassShard,
    /// A 1-D input (one sample, PyTorch's unbatched call): computed as one row, the
    /// row axis dropped from the outputs.
    unbatched: bool,
}

fn path<'a>(names: &'a [(String, PathBuf)], n: &str) -> Option<&'a Path> {
    names.iter().find(|(k, _)| k == n).map(|(_, p)| p.as_path())
}

/// Read this process's inputs: the sharded ones by block, the others whole.
fn read(op: &str, kind: Kind, names: &[(String, PathBuf)], size: usize, rank: usize) -> Result<Inputs, Error> {
    let req = |n: &str| path(names, n).ok_or_else(|| Error::Usage(format!("{op}: missing input `{n}`")));
    let main = if kind == Kind::CrossEntropy { "input" } else { "linear_weight" };
    let (dtype, shape) = xent::npy::info(req(main)?)?;
    if !matches!(dtype, DType::F32 | DType::F64) {
        return Err(Error::DType {
            op: op.into(),
            input: main.into(),
            got: dtype.to_string(),
            expected: "float32 or float64 with --shard-classes".into(),
        });
    }
    // The logits' classes are their last axis ((N, C) or unbatched (C)); linear_weight's
    // its first.
    let ok = if kind == Kind::CrossEntropy { matches!(shape.len(), 1 | 2) } else { shape.len() == 2 };
    if !ok {
        let what = if kind == Kind::CrossEntropy { "(N, C) or (C) logits" } else { "a (C, D) linear_weight" };
        return Err(Error::Shape { op: op.into(), msg: format!("--shard-classes needs {what}; `{main}` has shape {shape:?}") });
    }
    let class_axis = if kind == Kind::CrossEntropy { shape.len() - 1 } else { 0 };
    let shard = even_shard(shape[class_axis], size, rank);
    let block = |p: &Path, axis| xent::npy::read_block(p, axis, shard.offset..shard.offset + shard.len);
    let cast = |a: DynArray| match dtype {
        DType::F64 => DynArray::F64(a.to_f64()),
        _ => DynArray::F32(a.to_f64().mapv(|v| v as f32)),
    };
    let vec_input = |n: &str| -> Result<Option<DynArray>, Error> {
        let Some(p) = path(names, n) else { return Ok(None) };
        let (dt, s) = xent::npy::info(p)?;
        if s != [shard.classes] || !dt.is_float() {
            return Err(Error::Shape {
                op: op.into(),
                msg: format!("`{n}` must be a float vector of the {} classes, got {dt} of shape {s:?}", shard.classes),
            });
        }
        Ok(Some(cast(block(p, 0)?)))
    };
    let weight = vec_input("weight")?;
    let bias = vec_input("linear_bias")?;
    let t = xent::npy::read(req("target")?)?;
    let tshape = t.shape().to_vec();
    let target: Vec<i64> = match t {
        DynArray::I64(t) => t.into_iter().collect(),
        DynArray::U8(t) => t.into_iter().map(i64::from).collect(),
        t if t.dtype().is_float() => {
            return Err(Error::DType {
                op: op.into(),
                input: "target".into(),
                got: t.dtype().to_string(),
                expected: "int64 class indices (class probabilities are not supported with --shard-classes)".into(),
            })
        }
        t => {
            return Err(Error::DType {
                op: op.into(),
                input: "target".into(),
                got: t.dtype().to_string(),
                expected: "int64 (Long) class indices".into(),
            })
        }
    };
    let (x, lw) = match kind {
        Kind::CrossEntropy => (block(req("input")?, class_axis)?, None),
        Kind::Linear => {
            let x = xent::npy::read(req("input")?)?;
            if !matches!(x.shape().len(), 1 | 2) {
                return Err(Error::Shape {
                    op: op.into(),
                    msg: format!("expected input with dimensionality 1 or 2, got {}", x.shape().len()),
                });
            }
            (cast(x), Some(block(req("linear_weight")?, 0)?))
        }
    };
    // The target has the shape of the input less its last axis: (N), or () unbatched.
    let batch = if kind == Kind::CrossEntropy { shape[..shape.len() - 1].to_vec() } else { x.shape()[..x.shape().len() - 1].to_vec() };
    if tshape != batch {
        return Err(Error::Shape { op: op.into(), msg: format!("`target` has shape {tshape:?}; the input's batch shape is {batch:?}") });
    }
    let unbatched = batch.is_empty();
    Ok(Inputs { dtype, x, lw, target, weight, bias, shard, unbatched })
}

/// Send this process's block to process 0, which returns every block in rank order.
fn gather<T: mpi::datatype::Equivalence + Clone + Default>(world: &SimpleCommunicator, mine: &[T]) -> Option<Vec<Vec<T>>> {
    const MAX: usize = 1 << 30;
    let root = world.process_at_rank(0);
    if world.rank() != 0 {
        let n = mine.len() as u64;
        root.send(&n);
        for part in mine.chunks(MAX) {
            root.send(part);
        }
        return None;
    }
    let mut all = vec![mine.to_vec()];
    for r in 1..world.size() {
        let p = world.process_at_rank(r);
        let (n, _) = p.receive::<u64>();
        let mut v = Vec::with_capacity(n as usize);
        while (v.len() as u64) < n {
            let (part, _) = p.receive_vec::<T>();
            v.extend(part);
        }
        all.push(v);
    }
    Some(all)
}

/// The gradient of one input as process 0 assembles it: `(N, C)` from the column
/// blocks of the logits (process `r`'s is `N × even_shard(C, R, r).len`), or the
/// blocks concatenated (rows of `linear_weight`, the bias).
fn assemble<T: Copy + Default>(blocks: Vec<Vec<T>>, rows: usize, columns: bool, shape: &[usize]) -> ArrayD<T> {
    if !columns {
        return ArrayD::from_shape_vec(IxDyn(shape), blocks.concat()).expect("blocks fill the shape");
    }
    let size = blocks.len();
    let parts: Vec<Array2<T>> = blocks
        .into_iter()
        .enumerate()
        .map(|(r, b)| Array2::from_shape_vec((rows, even_shard(shape[1], size, r).len), b).expect("row blocks"))
        .collect();
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    ndarray::concatenate(Axis(1), &views).expect("equal rows").into_dyn()
}

trait Elem: xent::mpi::MpiFloat + Default {
    fn get(a: &DynArray) -> ArrayD<Self>;
}

impl Elem for f32 {
    fn get(a: &DynArray) -> ArrayD<f32> {
        match a {
            DynArray::F32(v) => v.clone(),
            other => other.to_f64().mapv(|v| v as f32),
        }
    }
}

impl Elem for f64 {
    fn get(a: &DynArray) -> ArrayD<f64> {
        a.to_f64()
    }
}

/// Compute on this process; process 0 gets `Some(output)`.
fn compute<T: Elem>(
    world: &SimpleCommunicator,
    op: &str,
    kind: Kind,
    inp: &Inputs,
    params: &[(String, Value)],
    grad: Option<&str>,
) -> Result<Option<DynArray>, Error> {
    let (red, ignore, eps) = loss_params(op, params)?;
    let par = xent::default_par();
    let weight = inp.weight.as_ref().map(T::get);
    let bias = inp.bias.as_ref().map(T::get);
    let wslice = weight.as_ref().map(|w| w.as_slice().expect("fresh array"));
    let bslice = bias.as_ref().map(|b| b.as_slice().expect("fresh array"));
    let x = T::get(&inp.x);
    let x = if inp.unbatched {
        x.into_shape_with_order((1, inp.x.shape()[0])).expect("1-D, checked")
    } else {
        x.into_dimensionality::<ndarray::Ix2>().expect("2-D, checked")
    };
    let n = x.nrows();
    let gshape: &[usize] = if red == Reduction::None { &[n] } else { &[] };
    let g = ArrayD::from_elem(IxDyn(gshape), T::one());
    let root = world.rank() == 0;
    let sh = inp.shard;
    let out: Option<ArrayD<T>> = match kind {
        Kind::CrossEntropy => {
            let o = SparseOptions { label_smoothing: T::of(eps), weight: wslice, ignore_index: Some(ignore), reduction: red };
            match grad {
                None => Some(xent::mpi::cross_entropy(world, &x.view(), &inp.target, &o, par)?),
                Some(_) => {
                    let (_, dx) = xent::mpi::cross_entropy_vjp(world, &x.view(), &inp.target, &o, &g.view(), par)?;
                    gather(world, dx.as_slice().expect("fresh array")).map(|b| assemble(b, n, true, &[n, sh.classes]))
                }
            }
        }
        Kind::Linear => {
            let lw = T::get(inp.lw.as_ref().expect("linear_weight read")).into_dimensionality::<ndarray::Ix2>().expect("2-D, checked");
            let o = LinearCeOptions {
                bias: bslice,
                weight: wslice,
                ignore_index: Some(ignore),
                label_smoothing: T::of(eps),
                reduction: red,
                chunk_bytes: xent::registry::chunk_bytes(),
                ..Default::default()
            };
            match grad {
                None => Some(xent::mpi::linear_cross_entropy(world, &x.view(), &lw.view(), &inp.target, &o, par)?),
                Some(name) => {
                    let wants = LinearWants { input: name == "input", linear_weight: name == "linear_weight", bias: name == "linear_bias" };
                    if wants.bias && bslice.is_none() {
                        return Err(Error::Usage(format!("{op}: no gradient with respect to `linear_bias`: it was not given")));
                    }
                    let r = xent::mpi::linear_cross_entropy_vjp(
                        world,
                        &x.view(),
                        &lw.view(),
                        &inp.target,
                        &o,
                        &g.view(),
                        wants,
                        InputGrad::AllReduce,
                        par,
                    )?;
                    let d = lw.ncols();
                    match (r.input, r.linear_weight, r.bias) {
                        (Some(dx), ..) => Some(dx.into_dyn()),
                        (_, Some(dw), _) => {
                            gather(world, dw.as_slice().expect("fresh array")).map(|b| assemble(b, 0, false, &[sh.classes, d]))
                        }
                        (.., Some(db)) => gather(world, db.as_slice().expect("fresh array")).map(|b| assemble(b, 0, false, &[sh.classes])),
                        _ => return Err(Error::Usage(format!("{op}: no gradient with respect to `{name}`"))),
                    }
                }
            }
        }
    };
    // Unbatched: the loss and `d input` lose the row axis.
    let squeeze = inp.unbatched && (grad.is_none() && red == Reduction::None || grad == Some("input"));
    let out = out.map(|o| if squeeze { o.index_axis_move(Axis(0), 0) } else { o });
    Ok(out.filter(|_| root).map(<T as xent::float::Float>::wrap))
}

/// Name the table's op in an error of the library's sharded ops (`cross_entropy`), as
/// `xent eval` does without `--shard-classes`.
fn named(e: Error, op: &str) -> Error {
    match e {
        Error::Shape { msg, .. } => Error::Shape { op: op.into(), msg },
        Error::Label { input, index, value, classes, extra, .. } => Error::Label { op: op.into(), input, index, value, classes, extra },
        Error::Param { param, msg, .. } => Error::Param { op: op.into(), param, msg },
        other => other,
    }
}

/// `xent eval ... --shard-classes` after the usage checks: read this process's
/// blocks, compute, and let process 0 write `out` (or print it when `None`).
pub fn eval(
    world: &SimpleCommunicator,
    op: &str,
    names: &[(String, PathBuf)],
    params: &[(String, Value)],
    grad: Option<&str>,
    write: impl FnOnce(&DynArray) -> Result<(), Error>,
) -> Result<(), Fail> {
    let kind = kind(op)?;
    let (size, rank) = (world.size() as usize, world.rank() as usize);
    let inp = agree(world, read(op, kind, names, size, rank))?;
    let name = xent::registry::find(op)?.name;
    let out = match inp.dtype {
        DType::F64 => compute::<f64>(world, name, kind, &inp, params, grad),
        _ => compute::<f32>(world, name, kind, &inp, params, grad),
    }
    .map_err(|e| named(e, name))?;
    match out {
        Some(o) => write(&o).map_err(Fail::Own),
        None => Ok(()),
    }
}

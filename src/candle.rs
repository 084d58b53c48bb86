//! PyTorch's losses on [candle](https://github.com/huggingface/candle) tensors, tracked
//! by candle's autograd (Cargo feature `candle`).
//!
//! Every function takes and returns [`candle_core::Tensor`]s and is recorded in candle's
//! graph as a custom op with a backward, so `loss.backward()?` fills the gradient of
//! every input that needs one, exactly as PyTorch's autograd would:
//!
//! | function | mirrors (PyTorch 2.15) | gradient to |
//! |---|---|---|
//! | [`softmax`], [`log_softmax`] | `torch.softmax`, `torch.log_softmax` | `input` |
//! | [`cross_entropy`] | `torch.nn.functional.cross_entropy` | `input` |
//! | [`nll_loss`] | `torch.nn.functional.nll_loss` | `input` |
//! | [`binary_cross_entropy`] | `torch.nn.functional.binary_cross_entropy` | `input` |
//! | [`binary_cross_entropy_with_logits`] | `torch.nn.functional.binary_cross_entropy_with_logits` | `input` |
//! | [`kl_div`] | `torch.nn.functional.kl_div` | `input` |
//!
//! The numerics are xent's PyTorch front-end ([`crate::torch`]) and its core ops; this
//! module only maps candle's storage and layout onto `ndarray` views and back.
//!
//! # Dtypes, devices, layouts
//! * `float32` and `float64` are computed in their own type. `float16` and `bfloat16`
//!   are widened to `float32`, computed there and rounded once to the input's dtype.
//!   Deviation: PyTorch 2.15's CPU kernels also accumulate in `float32` but round
//!   intermediate tensors (the log-softmax before the NLL, for example) to the half
//!   type, so its results differ from xent's by a few units of the half type's epsilon:
//!   for `cross_entropy` with label smoothing on 16×37 random logits (50 draws),
//!   PyTorch's loss was within 1.6 ε (f16) / 1.3 ε (bf16) of the `float32` value
//!   rounded once, its gradient entries within 20 ε / 7 ε (relative, floor 1e-3).
//! * Class-index targets may be `u8`, `u32`, `i16`, `i32` or `i64`; a float target of
//!   [`cross_entropy`] means class probabilities, as in PyTorch.
//! * Weights (`weight`, `pos_weight`) have the input's dtype (a `float16`/`bfloat16`
//!   weight also goes with a `float32` input).
//! * Tensors must be on the CPU: any other device is an error naming it. Any layout is
//!   accepted (transposed, narrowed, broadcast): strided inputs are read in place,
//!   and copied to a contiguous buffer only where a kernel needs one.
//!
//! # Backward: recomputed, not kept
//! The forward pass keeps nothing but what candle's graph already holds (the input
//! and target tensors). The backward recomputes what it needs from the input: for
//! [`cross_entropy`] with index targets and a `Mean`/`Sum` reduction, xent's fused
//! loss-and-gradient kernel (one read of the logits, one write of the gradient); for
//! the other losses their `_grad` function (one or two reads); for
//! [`softmax`]/[`log_softmax`] it recomputes the forward output from the input.
//! Memory: no extra tensor lives between `forward` and `backward`; during the
//! backward one gradient the size of the input (plus one value per position for the
//! log-sum-exps, and an `f32` copy of a `float16`/`bfloat16` input). Keeping
//! the gradient from a fused forward would save one read of the logits but hold a
//! logits-sized tensor for as long as the graph lives; for a one-pass loss and
//! gradient without candle's graph, use `xent::torch::cross_entropy_with_grad`.
//!
//! Gradients with respect to targets and weights are not computed (candle receives
//! `None` for them), as in the rest of xent; a second derivative (backward of the
//! backward) is not supported.
//!
//! # Errors
//! Every failure is a [`candle_core::Error`] wrapping xent's message (which names the
//! function, the input and the shapes): a tensor off the CPU, an unsupported dtype,
//! mismatched shapes, a label out of range, a bad parameter.
//!
//! # Example: a training step
//! ```
//! use candle_core::{Device, Tensor, Var};
//! use xent::candle::{cross_entropy, CrossEntropyArgs};
//!
//! # fn main() -> candle_core::Result<()> {
//! let logits = Var::from_tensor(&Tensor::new(&[[0.0f32, 0.0, 0.0], [1.0, 2.0, 3.0]], &Device::Cpu)?)?;
//! let labels = Tensor::new(&[2u32, 0], &Device::Cpu)?; // candle's argmax gives u32
//! let loss = cross_entropy(logits.as_tensor(), &labels, &CrossEntropyArgs::default())?;
//! let grads = loss.backward()?;
//! let g = grads.get(&logits).expect("a gradient").to_vec2::<f32>()?;
//! // d mean / d logits = (softmax − onehot) / N
//! assert!((g[0][2] - (1.0 / 3.0 - 1.0) / 2.0).abs() < 1e-6);
//! # Ok(())
//! # }
//! ```

use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, DType, Layout, Shape, Storage, Tensor};
use half::{bf16, f16};
use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn, ShapeBuilder};

use crate::float::Float;
use crate::torch;

pub use crate::ops::{KlReduction, Reduction};
pub use crate::torch::KlDivArgs;

type CResult<T> = candle_core::Result<T>;

/// A xent error as a candle error (the message is xent's).
fn wrap(e: crate::Error) -> candle_core::Error {
    candle_core::Error::wrap(e)
}

fn usage(op: &str, msg: impl std::fmt::Display) -> candle_core::Error {
    wrap(crate::Error::Usage(format!("{op}: {msg}")))
}

/// Fail unless `t` is on the CPU, naming the device.
fn on_cpu(op: &str, name: &str, t: &Tensor) -> CResult<()> {
    if t.device().is_cpu() {
        return Ok(());
    }
    Err(usage(
        op,
        format!(
            "`{name}` is on device {:?}; xent computes on the CPU only (move it with `.to_device(&Device::Cpu)`)",
            t.device().location()
        ),
    ))
}

fn dtype_err(op: &str, name: &str, got: DType, expected: &str) -> candle_core::Error {
    wrap(crate::Error::DType { op: op.into(), input: name.into(), got: got.as_str().into(), expected: expected.into() })
}

fn storage_dtype(s: &CpuStorage) -> DType {
    match s {
        CpuStorage::U8(_) => DType::U8,
        CpuStorage::U32(_) => DType::U32,
        CpuStorage::I16(_) => DType::I16,
        CpuStorage::I32(_) => DType::I32,
        CpuStorage::I64(_) => DType::I64,
        CpuStorage::BF16(_) => DType::BF16,
        CpuStorage::F16(_) => DType::F16,
        CpuStorage::F32(_) => DType::F32,
        CpuStorage::F64(_) => DType::F64,
        CpuStorage::F8E4M3(_) => DType::F8E4M3,
        CpuStorage::F6E2M3(_) => DType::F6E2M3,
        CpuStorage::F6E3M2(_) => DType::F6E3M2,
        CpuStorage::F4(_) => DType::F4,
        CpuStorage::F8E8M0(_) => DType::F8E8M0,
    }
}

/// candle's storage seen through its layout as an `ndarray` view (no copy: candle's
/// strides are element strides, possibly 0 for a broadcast).
fn view<'a, T>(data: &'a [T], l: &Layout) -> CResult<ArrayViewD<'a, T>> {
    let rest = data.get(l.start_offset()..).ok_or_else(|| candle_core::Error::msg("xent: layout offset past the storage"))?;
    ArrayViewD::from_shape(IxDyn(l.dims()).strides(IxDyn(l.stride())), rest)
        .map_err(|e| candle_core::Error::msg(format!("xent: layout does not fit the storage: {e}")))
}

/// The element type a candle float tensor is computed in: `f32` (for f32, f16, bf16)
/// or `f64`.
trait Compute: Float + crate::ops::FusedLogit<Acc = Self> {
    /// `s` as this type (widening a 16-bit float), or `None` for another dtype.
    fn read<'a>(s: &'a CpuStorage, l: &Layout) -> Option<CResult<CowArray<'a, Self, IxDyn>>>;
    /// Round `a` once to the storage of dtype `dt`.
    fn store(a: ArrayD<Self>, dt: DType) -> CpuStorage;
}

fn into_vec<T: Clone>(a: ArrayD<T>) -> Vec<T> {
    if a.is_standard_layout() {
        a.into_raw_vec_and_offset().0
    } else {
        a.iter().cloned().collect()
    }
}

impl Compute for f32 {
    fn read<'a>(s: &'a CpuStorage, l: &Layout) -> Option<CResult<CowArray<'a, f32, IxDyn>>> {
        Some(match s {
            CpuStorage::F32(v) => view(v, l).map(CowArray::from),
            CpuStorage::F16(v) => view(v, l).map(|a| CowArray::from(a.mapv(f16::to_f32))),
            CpuStorage::BF16(v) => view(v, l).map(|a| CowArray::from(a.mapv(bf16::to_f32))),
            _ => return None,
        })
    }
    fn store(a: ArrayD<f32>, dt: DType) -> CpuStorage {
        match dt {
            DType::F16 => CpuStorage::F16(into_vec(a.mapv(f16::from_f32))),
            DType::BF16 => CpuStorage::BF16(into_vec(a.mapv(bf16::from_f32))),
            _ => CpuStorage::F32(into_vec(a)),
        }
    }
}

impl Compute for f64 {
    fn read<'a>(s: &'a CpuStorage, l: &Layout) -> Option<CResult<CowArray<'a, f64, IxDyn>>> {
        match s {
            CpuStorage::F64(v) => Some(view(v, l).map(CowArray::from)),
            _ => None,
        }
    }
    fn store(a: ArrayD<f64>, _dt: DType) -> CpuStorage {
        CpuStorage::F64(into_vec(a))
    }
}

const FLOATS: &str = "float32, float64, float16 or bfloat16";

/// A float input of the compute type `T` (same dtype as the main input, or a 16-bit
/// float with an `f32` computation).
fn floats<'a, T: Compute>(op: &str, name: &str, s: &'a CpuStorage, l: &Layout, main: DType) -> CResult<CowArray<'a, T, IxDyn>> {
    match T::read(s, l) {
        Some(r) => r,
        None => Err(dtype_err(op, name, storage_dtype(s), &format!("a float dtype matching `input` ({})", main.as_str()))),
    }
}

/// Class indices of any integer dtype, as `i64`.
fn indices<'a>(op: &str, name: &str, s: &'a CpuStorage, l: &Layout) -> CResult<CowArray<'a, i64, IxDyn>> {
    Ok(match s {
        CpuStorage::I64(v) => CowArray::from(view(v, l)?),
        CpuStorage::U8(v) => CowArray::from(view(v, l)?.mapv(i64::from)),
        CpuStorage::U32(v) => CowArray::from(view(v, l)?.mapv(i64::from)),
        CpuStorage::I16(v) => CowArray::from(view(v, l)?.mapv(i64::from)),
        CpuStorage::I32(v) => CowArray::from(view(v, l)?.mapv(i64::from)),
        other => return Err(dtype_err(op, name, storage_dtype(other), "an integer dtype (u8, u32, i16, i32, i64)")),
    })
}

fn is_int(s: &CpuStorage) -> bool {
    matches!(s, CpuStorage::U8(_) | CpuStorage::U32(_) | CpuStorage::I16(_) | CpuStorage::I32(_) | CpuStorage::I64(_))
}

/// Run `f` with an optional weight tensor read as `T`.
fn with_weight<T: Compute, R>(
    op: &str,
    name: &str,
    w: Option<&Tensor>,
    main: DType,
    f: impl FnOnce(Option<ArrayViewD<'_, T>>) -> CResult<R>,
) -> CResult<R> {
    let Some(w) = w else { return f(None) };
    let (guard, layout) = w.storage_and_layout();
    let Storage::Cpu(s) = &*guard else {
        return Err(usage(op, format!("`{name}` is not on the CPU")));
    };
    let a = floats::<T>(op, name, s, layout, main)?;
    f(Some(a.view()))
}

/// Which op, with its parameters.
#[derive(Clone)]
enum Kind {
    Softmax { dim: i64, log: bool },
    CrossEntropy(CrossEntropyArgs),
    Nll(CrossEntropyArgs),
    Bce { weight: Option<Tensor>, reduction: Reduction },
    BceLogits { weight: Option<Tensor>, pos_weight: Option<Tensor>, reduction: Reduction },
    KlDiv(torch::KlDivArgs),
}

impl Kind {
    fn name(&self) -> &'static str {
        match self {
            Kind::Softmax { log: false, .. } => "torch.softmax",
            Kind::Softmax { log: true, .. } => "torch.log_softmax",
            Kind::CrossEntropy(_) => "torch.nn.functional.cross_entropy",
            Kind::Nll(_) => "torch.nn.functional.nll_loss",
            Kind::Bce { .. } => "torch.nn.functional.binary_cross_entropy",
            Kind::BceLogits { .. } => "torch.nn.functional.binary_cross_entropy_with_logits",
            Kind::KlDiv(_) => "torch.nn.functional.kl_div",
        }
    }

    /// The forward (`g == None`) or the gradient with respect to `x` given the
    /// upstream gradient `g`, in the compute type `T`.
    fn run<T: Compute>(
        &self,
        x: &ArrayViewD<'_, T>,
        t: Option<(&CpuStorage, &Layout)>,
        g: Option<&ArrayViewD<'_, T>>,
        main: DType,
    ) -> CResult<ArrayD<T>> {
        let op = self.name();
        let target = || t.ok_or_else(|| candle_core::Error::msg("xent: missing target"));
        match self {
            Kind::Softmax { dim, log } => match (g, log) {
                (None, false) => torch::softmax(x, *dim),
                (None, true) => torch::log_softmax(x, *dim),
                (Some(g), false) => torch::softmax_grad(x, *dim, g),
                (Some(g), true) => torch::log_softmax_grad(x, *dim, g),
            }
            .map_err(wrap),
            Kind::CrossEntropy(a) | Kind::Nll(a) => {
                let (ts, tl) = target()?;
                with_weight::<T, _>(op, "weight", a.weight.as_ref(), main, |w| {
                    let args = torch::CrossEntropyArgs {
                        weight: w,
                        ignore_index: a.ignore_index,
                        reduction: a.reduction,
                        label_smoothing: a.label_smoothing,
                    };
                    if let Kind::Nll(_) = self {
                        let y = indices(op, "target", ts, tl)?;
                        return match g {
                            None => torch::nll_loss(x, &y.view(), &args),
                            Some(g) => torch::nll_loss_grad(x, &y.view(), &args, g),
                        }
                        .map_err(wrap);
                    }
                    let probs;
                    let labels;
                    let tgt = if is_int(ts) {
                        labels = indices(op, "target", ts, tl)?;
                        torch::Target::Indices(labels.view())
                    } else {
                        probs = floats::<T>(op, "target", ts, tl, main)?;
                        torch::Target::Probs(probs.view())
                    };
                    match (g, tgt) {
                        (None, tgt) => torch::cross_entropy(x, tgt, &args),
                        // a reduced loss with index targets: the fused kernel, one read of
                        // the logits for the log-sum-exp and the gradient
                        (Some(g), torch::Target::Indices(y)) if a.reduction != Reduction::None => {
                            let up = g.iter().next().copied().unwrap_or_else(T::zero);
                            let mut grad = ArrayD::from_elem(x.raw_dim(), T::zero());
                            torch::cross_entropy_with_grad(x, &y, &args, up, &mut grad).map(|_| grad)
                        }
                        (Some(g), tgt) => torch::cross_entropy_grad(x, tgt, &args, g),
                    }
                    .map_err(wrap)
                })
            }
            Kind::Bce { weight, reduction } => {
                let (ts, tl) = target()?;
                let y = floats::<T>(op, "target", ts, tl, main)?;
                with_weight::<T, _>(op, "weight", weight.as_ref(), main, |w| {
                    match g {
                        None => torch::binary_cross_entropy(x, &y.view(), w.as_ref(), *reduction),
                        Some(g) => torch::binary_cross_entropy_grad(x, &y.view(), w.as_ref(), *reduction, g),
                    }
                    .map_err(wrap)
                })
            }
            Kind::BceLogits { weight, pos_weight, reduction } => {
                let (ts, tl) = target()?;
                let y = floats::<T>(op, "target", ts, tl, main)?;
                with_weight::<T, _>(op, "weight", weight.as_ref(), main, |w| {
                    with_weight::<T, _>(op, "pos_weight", pos_weight.as_ref(), main, |pw| {
                        match g {
                            None => torch::binary_cross_entropy_with_logits(x, &y.view(), w.as_ref(), pw.as_ref(), *reduction),
                            Some(g) => torch::binary_cross_entropy_with_logits_grad(x, &y.view(), w.as_ref(), pw.as_ref(), *reduction, g),
                        }
                        .map_err(wrap)
                    })
                })
            }
            Kind::KlDiv(args) => {
                let (ts, tl) = target()?;
                let y = floats::<T>(op, "target", ts, tl, main)?;
                match g {
                    None => torch::kl_div(x, &y.view(), args),
                    Some(g) => torch::kl_div_grad(x, &y.view(), args, g),
                }
                .map_err(wrap)
            }
        }
    }

    /// Dispatch on the input's dtype; the result has the input's dtype.
    fn cpu(
        &self,
        s: &CpuStorage,
        l: &Layout,
        t: Option<(&CpuStorage, &Layout)>,
        g: Option<(&CpuStorage, &Layout)>,
    ) -> CResult<(CpuStorage, Shape)> {
        let op = self.name();
        let dt = storage_dtype(s);
        fn go<T: Compute>(
            k: &Kind,
            s: &CpuStorage,
            l: &Layout,
            t: Option<(&CpuStorage, &Layout)>,
            g: Option<(&CpuStorage, &Layout)>,
            dt: DType,
        ) -> CResult<(CpuStorage, Shape)> {
            let op = k.name();
            let x = floats::<T>(op, "input", s, l, dt)?;
            let gv = match g {
                Some((gs, gl)) => Some(floats::<T>(op, "grad", gs, gl, dt)?),
                None => None,
            };
            let out = k.run::<T>(&x.view(), t, gv.as_ref().map(|g| g.view()).as_ref(), dt)?;
            let shape = Shape::from_dims(out.shape());
            Ok((T::store(out, dt), shape))
        }
        match dt {
            DType::F64 => go::<f64>(self, s, l, t, g, dt),
            DType::F32 | DType::F16 | DType::BF16 => go::<f32>(self, s, l, t, g, dt),
            other => Err(dtype_err(op, "input", other, FLOATS)),
        }
    }
}

/// The forward op recorded in candle's graph.
struct Fwd(Kind);
/// Its backward: the gradient with respect to the input, with no backward of its own.
struct Bwd(Kind);

impl CustomOp1 for Fwd {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        self.0.cpu(s, l, None, None)
    }
    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> CResult<Option<Tensor>> {
        Ok(Some(arg.apply_op2_no_bwd(grad_res, &Bwd(self.0.clone()))?))
    }
}

impl CustomOp2 for Fwd {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> CResult<(CpuStorage, Shape)> {
        self.0.cpu(s1, l1, Some((s2, l2)), None)
    }
    fn bwd(&self, arg1: &Tensor, arg2: &Tensor, _res: &Tensor, grad_res: &Tensor) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        Ok((Some(arg1.apply_op3_no_bwd(arg2, grad_res, &Bwd(self.0.clone()))?), None))
    }
}

impl CustomOp2 for Bwd {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> CResult<(CpuStorage, Shape)> {
        self.0.cpu(s1, l1, None, Some((s2, l2)))
    }
}

impl CustomOp3 for Bwd {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> CResult<(CpuStorage, Shape)> {
        self.0.cpu(s1, l1, Some((s2, l2)), Some((s3, l3)))
    }
}

/// Check devices and the input's dtype before recording the op.
fn check(k: &Kind, tensors: &[(&str, Option<&Tensor>)]) -> CResult<()> {
    let op = k.name();
    for (name, t) in tensors {
        if let Some(t) = t {
            on_cpu(op, name, t)?;
        }
    }
    if let Some((_, Some(x))) = tensors.first() {
        if !matches!(x.dtype(), DType::F32 | DType::F64 | DType::F16 | DType::BF16) {
            return Err(dtype_err(op, "input", x.dtype(), FLOATS));
        }
    }
    Ok(())
}

/// A dimension argument of [`softmax`] and [`log_softmax`]: PyTorch's integer `dim`
/// (`i64`, `i32`, `usize`; negative counts from the end) or candle's
/// [`candle_core::D`] (`D::Minus1`, …).
///
/// ```
/// use candle_core::D;
/// use xent::candle::AsDim;
/// assert_eq!(D::Minus1.to_dim(), -1);
/// assert_eq!(2usize.to_dim(), 2);
/// ```
pub trait AsDim: Copy {
    /// The dimension as PyTorch writes it.
    fn to_dim(self) -> i64;
}

impl AsDim for i64 {
    fn to_dim(self) -> i64 {
        self
    }
}

impl AsDim for i32 {
    fn to_dim(self) -> i64 {
        i64::from(self)
    }
}

impl AsDim for usize {
    fn to_dim(self) -> i64 {
        i64::try_from(self).unwrap_or(i64::MAX)
    }
}

impl AsDim for candle_core::D {
    fn to_dim(self) -> i64 {
        match self {
            candle_core::D::Minus1 => -1,
            candle_core::D::Minus2 => -2,
            candle_core::D::Minus(n) => i64::try_from(n).map_or(i64::MIN, |n| -n),
        }
    }
}

fn unary(input: &Tensor, k: Kind) -> CResult<Tensor> {
    check(&k, &[("input", Some(input))])?;
    input.apply_op1(Fwd(k))
}

fn binary(input: &Tensor, target: &Tensor, k: Kind, extra: &[(&str, Option<&Tensor>)]) -> CResult<Tensor> {
    let mut all = vec![("input", Some(input)), ("target", Some(target))];
    all.extend_from_slice(extra);
    check(&k, &all)?;
    input.apply_op2(target, Fwd(k))
}

/// `torch.softmax(input, dim)` on a candle tensor: `exp(x − max) / Σ exp(x − max)`
/// along `dim` (an integer, negative counting from the end, or candle's `D::Minus1`;
/// a 0-d tensor is a length-1 vector),
/// with PyTorch's backward `y·(g − Σ g·y)`. See [`crate::torch::softmax`].
///
/// # Errors
/// A tensor off the CPU, a non-float dtype, `dim` out of range.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// # fn main() -> candle_core::Result<()> {
/// let x = Var::from_tensor(&Tensor::new(&[[0.0f64, 0.0]], &Device::Cpu)?)?;
/// let y = xent::candle::softmax(x.as_tensor(), -1)?;
/// assert_eq!(y.to_vec2::<f64>()?, vec![vec![0.5, 0.5]]);
/// let grads = (y.narrow(1, 0, 1)?.sum_all()?).backward()?; // d y₀ / d x
/// assert_eq!(grads.get(&x).unwrap().to_vec2::<f64>()?, vec![vec![0.25, -0.25]]);
/// # Ok(())
/// # }
/// ```
pub fn softmax(input: &Tensor, dim: impl AsDim) -> CResult<Tensor> {
    unary(input, Kind::Softmax { dim: dim.to_dim(), log: false })
}

/// `torch.log_softmax(input, dim)` on a candle tensor: `(x − max) − ln Σ exp(x − max)`
/// along `dim`, with PyTorch's backward `g − exp(y)·Σ g`. See
/// [`crate::torch::log_softmax`].
///
/// # Errors
/// As [`softmax`].
///
/// ```
/// use candle_core::{Device, Tensor};
/// # fn main() -> candle_core::Result<()> {
/// let x = Tensor::new(&[0.0f32, 0.0], &Device::Cpu)?;
/// let y = xent::candle::log_softmax(&x, candle_core::D::Minus1)?.to_vec1::<f32>()?;
/// assert!((y[0] + 2f32.ln()).abs() < 1e-7);
/// # Ok(())
/// # }
/// ```
pub fn log_softmax(input: &Tensor, dim: impl AsDim) -> CResult<Tensor> {
    unary(input, Kind::Softmax { dim: dim.to_dim(), log: true })
}

/// Arguments of [`cross_entropy`] and [`nll_loss`], PyTorch's names and defaults
/// (the candle twin of [`crate::torch::CrossEntropyArgs`]).
#[derive(Debug, Clone)]
pub struct CrossEntropyArgs {
    /// Per-class rescaling weight: a 1-D tensor of C elements, the input's dtype.
    pub weight: Option<Tensor>,
    /// Target value to ignore (index targets only). Default −100.
    pub ignore_index: i64,
    /// `None`, `Mean` (default: the weighted mean over non-ignored targets) or `Sum`.
    pub reduction: Reduction,
    /// Label smoothing ε in [0, 1] (cross-entropy only). Default 0.
    pub label_smoothing: f64,
}

impl Default for CrossEntropyArgs {
    fn default() -> Self {
        CrossEntropyArgs { weight: None, ignore_index: torch::IGNORE_INDEX, reduction: Reduction::Mean, label_smoothing: 0.0 }
    }
}

/// `torch.nn.functional.cross_entropy(input, target, weight, ignore_index, reduction,
/// label_smoothing)` on candle tensors: log-softmax over dim 1 (dim 0 for a 1-D input),
/// any rank (`(N, C, d1, …)` with targets `(N, d1, …)`), then the negative
/// log-likelihood of the target class (integer target of any integer dtype) or
/// `−Σ_c w_c t_c log p_c` (float target: class probabilities of the input's shape).
/// With smoothing ε: `(1 − ε)·nll + (ε/C)·Σ_c w_c·(−log p_c)`. `Mean` divides by
/// `Σ w[y]` over non-ignored targets (NaN when all are ignored). The backward is
/// PyTorch's: `g·((1 − ε)·w[y]·(softmax − onehot) + (ε/C)·(softmax·Σw − w))`, scaled
/// for the reduction. See [`crate::torch::cross_entropy`].
///
/// # Errors
/// A tensor off the CPU; a non-float input, a weight of another dtype; mismatched
/// batch or spatial sizes; a label outside `[0, C)` that is not `ignore_index`;
/// `label_smoothing > 1`; a non-negative `ignore_index` with probability targets.
///
/// ```
/// use candle_core::{Device, Tensor, Var};
/// use xent::candle::{cross_entropy, CrossEntropyArgs, Reduction};
/// # fn main() -> candle_core::Result<()> {
/// let dev = Device::Cpu;
/// // (N=1, C=2, d=2): classes on dim 1, a spatial dim after it; u8 labels
/// let x = Var::from_tensor(&Tensor::new(&[[[0.0f32, 1.0], [0.0, 1.0]]], &dev)?)?;
/// let y = Tensor::new(&[[1u8, 0]], &dev)?;
/// let args = CrossEntropyArgs { reduction: Reduction::Sum, ..Default::default() };
/// let loss = cross_entropy(x.as_tensor(), &y, &args)?;
/// assert!((loss.to_scalar::<f32>()? - 2.0 * 2f32.ln()).abs() < 1e-6);
/// let g = loss.backward()?.get(&x).unwrap().to_vec3::<f32>()?;
/// // softmax − onehot at each (n, ·, d): position d=0 has label 1, d=1 label 0
/// assert_eq!(g, vec![vec![vec![0.5, -0.5], vec![-0.5, 0.5]]]);
/// # Ok(())
/// # }
/// ```
pub fn cross_entropy(input: &Tensor, target: &Tensor, args: &CrossEntropyArgs) -> CResult<Tensor> {
    let w = args.weight.as_ref();
    binary(input, target, Kind::CrossEntropy(args.clone()), &[("weight", w)])
}

/// `torch.nn.functional.nll_loss(input, target, weight, ignore_index, reduction)` on
/// candle tensors: `−w[y]·input[y]` on log-probabilities, classes on dim 1, reduced as
/// [`cross_entropy`]; the backward puts `−w[y]·g` at the target class. Targets of any
/// integer dtype. See [`crate::torch::nll_loss`].
///
/// # Errors
/// As [`cross_entropy`] with index targets; a float target; `label_smoothing ≠ 0`
/// (PyTorch's `nll_loss` has none).
///
/// ```
/// use candle_core::{Device, Tensor};
/// use xent::candle::{nll_loss, CrossEntropyArgs};
/// # fn main() -> candle_core::Result<()> {
/// let logp = Tensor::new(&[[-1.0f32, -2.0], [-0.5, -3.0]], &Device::Cpu)?;
/// let y = Tensor::new(&[1i64, 0], &Device::Cpu)?;
/// let l = nll_loss(&logp, &y, &CrossEntropyArgs::default())?;
/// assert_eq!(l.to_scalar::<f32>()?, 1.25);
/// # Ok(())
/// # }
/// ```
pub fn nll_loss(input: &Tensor, target: &Tensor, args: &CrossEntropyArgs) -> CResult<Tensor> {
    let k = Kind::Nll(args.clone());
    if args.label_smoothing != 0.0 {
        return Err(wrap(crate::Error::Param {
            op: k.name().into(),
            param: "label_smoothing".into(),
            msg: "nll_loss has no label smoothing (use cross_entropy)".into(),
        }));
    }
    binary(input, target, k, &[("weight", args.weight.as_ref())])
}

/// `torch.nn.functional.binary_cross_entropy(input, target, weight, reduction)` on
/// candle tensors: `−w·(t·max(ln p, −100) + (1 − t)·max(ln(1 − p), −100))` with
/// PyTorch's clamp of the logs, `weight` broadcast to the input; the backward is
/// PyTorch's `g·w·(p − t) / max((1 − p)·p, 1e-12)`. See
/// [`crate::ops::binary_cross_entropy`].
///
/// # Errors
/// A tensor off the CPU, a non-float or mismatched dtype, shapes that differ (or a
/// weight that does not broadcast), an input outside [0, 1].
///
/// ```
/// use candle_core::{Device, Tensor};
/// use xent::candle::{binary_cross_entropy, Reduction};
/// # fn main() -> candle_core::Result<()> {
/// let p = Tensor::new(&[0.5f64, 1.0], &Device::Cpu)?;
/// let t = Tensor::new(&[1.0f64, 0.0], &Device::Cpu)?;
/// let l = binary_cross_entropy(&p, &t, None, Reduction::None)?.to_vec1::<f64>()?;
/// assert_eq!(l, vec![2f64.ln(), 100.0]); // ln 0 clamped to −100
/// # Ok(())
/// # }
/// ```
pub fn binary_cross_entropy(input: &Tensor, target: &Tensor, weight: Option<&Tensor>, reduction: Reduction) -> CResult<Tensor> {
    binary(input, target, Kind::Bce { weight: weight.cloned(), reduction }, &[("weight", weight)])
}

/// `torch.nn.functional.binary_cross_entropy_with_logits(input, target, weight,
/// reduction, pos_weight)` on candle tensors, stable for any logit:
/// `w·((1 − t)·x + (1 + (pw − 1)·t)·softplus(−x))`, `weight` broadcast to the input and
/// `pos_weight` along the last dim; the backward is PyTorch's
/// `g·w·((pw·t + 1 − t)·σ(x) − pw·t)`. See [`crate::ops::binary_cross_entropy_with_logits`].
///
/// # Errors
/// A tensor off the CPU, a non-float or mismatched dtype, shapes that differ or a
/// weight that does not broadcast.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use xent::candle::{binary_cross_entropy_with_logits, Reduction};
/// # fn main() -> candle_core::Result<()> {
/// // candle-nn's `log(sigmoid(x))` gives inf here; xent stays finite
/// let x = Tensor::new(&[-200.0f32, 0.0], &Device::Cpu)?;
/// let t = Tensor::new(&[1.0f32, 0.0], &Device::Cpu)?;
/// let l = binary_cross_entropy_with_logits(&x, &t, None, None, Reduction::None)?.to_vec1::<f32>()?;
/// assert_eq!(l[0], 200.0);
/// assert!((l[1] - 2f32.ln()).abs() < 1e-7);
/// # Ok(())
/// # }
/// ```
pub fn binary_cross_entropy_with_logits(
    input: &Tensor,
    target: &Tensor,
    weight: Option<&Tensor>,
    pos_weight: Option<&Tensor>,
    reduction: Reduction,
) -> CResult<Tensor> {
    let k = Kind::BceLogits { weight: weight.cloned(), pos_weight: pos_weight.cloned(), reduction };
    binary(input, target, k, &[("weight", weight), ("pos_weight", pos_weight)])
}

/// `torch.nn.functional.kl_div(input, target, reduction, log_target)` on candle
/// tensors, `input` log-probabilities: pointwise `xlogy(t, t) − t·input` (0 where
/// `t = 0`), or `exp(t)·(t − input)` with `log_target`, `input` and `target`
/// broadcast, then reduced (`Mean` by default, `BatchMean` for the per-sample KL); the
/// backward is `−g·t` (`−g·exp(t)`), scaled for the reduction. See
/// [`crate::torch::kl_div`].
///
/// # Errors
/// A tensor off the CPU, a non-float or mismatched dtype, shapes that do not broadcast.
///
/// ```
/// use candle_core::{Device, Tensor};
/// use xent::candle::{kl_div, KlDivArgs, KlReduction};
/// # fn main() -> candle_core::Result<()> {
/// let logq = Tensor::new(&[[0.5f64.ln(), 0.5f64.ln()]], &Device::Cpu)?;
/// let p = Tensor::new(&[[1.0f64, 0.0]], &Device::Cpu)?;
/// let args = KlDivArgs { reduction: KlReduction::BatchMean, ..Default::default() };
/// let l = kl_div(&logq, &p, &args)?.to_scalar::<f64>()?;
/// assert!((l - 2f64.ln()).abs() < 1e-15);
/// # Ok(())
/// # }
/// ```
pub fn kl_div(input: &Tensor, target: &Tensor, args: &KlDivArgs) -> CResult<Tensor> {
    binary(input, target, Kind::KlDiv(*args), &[])
}

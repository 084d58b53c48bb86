//! xent inside a candle training loop, and a check of every `xent::candle` function.
//!
//! 1. Trains a softmax-regression classifier on three Gaussian blobs with
//!    `xent::candle::cross_entropy(...)?.backward()?` and plain SGD, and checks that
//!    the first step's gradients equal candle-nn's `loss::cross_entropy` and that the
//!    classifier learns.
//! 2. For every function of `xent::candle` (softmax, log_softmax, cross_entropy with
//!    index and probability targets, weights, ignore_index, label smoothing, every
//!    reduction, rank 3, transposed, narrowed and broadcast inputs; nll_loss; binary_cross_entropy;
//!    binary_cross_entropy_with_logits with weight and pos_weight; kl_div) and every
//!    float dtype (f64, f32, f16, bf16): the values and the gradient of a random
//!    projection of the output against the same function written with candle's own
//!    ops (candle-nn's `log_softmax`, `gather`, …) in f64, and, in f64, against
//!    central finite differences of xent's forward.
//!
//! ```text
//! cargo run --release --features candle --example candle_train
//! ```
//! Exits 1 on any mismatch.

use std::process::ExitCode;

use candle_core::{DType, Device, Tensor, Var};
use xent::candle::{self as xc, CrossEntropyArgs, KlDivArgs, KlReduction, Reduction};
use xent::rng::SplitMix64;

type R<T> = candle_core::Result<T>;

const DEV: Device = Device::Cpu;

fn main() -> ExitCode {
    match run() {
        Ok(0) => {
            println!("all checks passed");
            ExitCode::SUCCESS
        }
        Ok(n) => {
            eprintln!("{n} check(s) failed");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> R<usize> {
    let mut failures = train()?;
    failures += gradient_checks()?;
    failures += error_checks()?;
    Ok(failures)
}

// ------------------------------------------------------------------------------------
// 1. Training.

fn train() -> R<usize> {
    let (n, d, c) = (300usize, 2usize, 3usize);
    let mut rng = SplitMix64::new(42);
    let centers = [[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]];
    let mut xs = Vec::with_capacity(n * d);
    let mut ys = Vec::with_capacity(n);
    for i in 0..n {
        let k = i % c;
        xs.push((centers[k][0] + 0.6 * rng.normal()) as f32);
        xs.push((centers[k][1] + 0.6 * rng.normal()) as f32);
        ys.push(k as u32);
    }
    let x = Tensor::from_vec(xs, (n, d), &DEV)?;
    let y = Tensor::from_vec(ys, n, &DEV)?;
    let w = Var::from_tensor(&Tensor::zeros((d, c), DType::F32, &DEV)?)?;
    let b = Var::from_tensor(&Tensor::zeros(c, DType::F32, &DEV)?)?;
    let args = CrossEntropyArgs::default();
    let mut failures = 0;
    let mut first = f32::NAN;
    let mut last = f32::NAN;
    for step in 0..200 {
        let logits = x.matmul(w.as_tensor())?.broadcast_add(b.as_tensor())?;
        let loss = xc::cross_entropy(&logits, &y, &args)?;
        let grads = loss.backward()?;
        let (gw, gb) = (grads.get(&w).expect("grad of w"), grads.get(&b).expect("grad of b"));
        if step == 0 {
            first = loss.to_scalar::<f32>()?;
            // the same step through candle-nn's loss
            let peer = candle_nn::loss::cross_entropy(&logits, &y)?;
            let pg = peer.backward()?;
            let mut ck = Checker::default();
            ck.close("train: loss vs candle-nn", &loss, &peer, 1e-6)?;
            ck.close("train: d loss/d w vs candle-nn", gw, pg.get(&w).expect("peer grad"), 1e-6)?;
            // at step 0 (zero weights, balanced classes) d loss/d b is 0 in exact
            // arithmetic: a sum over the rows of (p − onehot)/n, terms whose absolute
            // values total at most 1 per class. Rounded, it is 0 in candle-nn (p = 1/3
            // rounded) and −2.3e-8 in xent and in PyTorch 2.15 (p = exp(−ln 3 rounded)
            // = 0.33333331, one ulp below): compare it at the scale of its terms.
            ck.close_at_scale("train: d loss/d b vs candle-nn", gb, pg.get(&b).expect("peer grad"), 1e-6, 1.0)?;
            failures += ck.failures;
        }
        w.set(&(w.as_tensor() - (gw * 0.5)?)?)?;
        b.set(&(b.as_tensor() - (gb * 0.5)?)?)?;
        last = loss.to_scalar::<f32>()?;
    }
    let logits = x.matmul(w.as_tensor())?.broadcast_add(b.as_tensor())?;
    let pred = logits.argmax(1)?;
    let acc = pred.eq(&y)?.to_dtype(DType::F32)?.mean_all()?.to_scalar::<f32>()?;
    println!("train: softmax regression, {n} points, 3 classes: loss {first:.4} -> {last:.4}, accuracy {acc:.3}");
    if !(last < 0.5 * first && acc >= 0.95) {
        eprintln!("FAIL train: the classifier did not learn (loss {first} -> {last}, accuracy {acc})");
        failures += 1;
    }
    Ok(failures)
}

// ------------------------------------------------------------------------------------
// 2. Gradient checks.

#[derive(Default)]
struct Checker {
    failures: usize,
    checks: usize,
}

impl Checker {
    /// `|got − want| ≤ tol·(|want| + max|want|)` element-wise (NaN only where `want` is NaN).
    fn close(&mut self, what: &str, got: &Tensor, want: &Tensor, tol: f64) -> R<()> {
        self.close_at_scale(what, got, want, tol, 0.0)
    }

    /// [`Checker::close`] with the scale of `want` taken as at least `floor`: for
    /// values that are sums whose terms are known to be of that size while the sum
    /// itself is (nearly) 0, so that the comparison is absolute at `tol·floor`.
    fn close_at_scale(&mut self, what: &str, got: &Tensor, want: &Tensor, tol: f64, floor: f64) -> R<()> {
        self.checks += 1;
        if got.dims() != want.dims() {
            eprintln!("FAIL {what}: shape {:?}, want {:?}", got.dims(), want.dims());
            self.failures += 1;
            return Ok(());
        }
        let g = got.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
        let w = want.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
        let scale = w.iter().filter(|v| v.is_finite()).fold(floor, |m, v| m.max(v.abs()));
        for (i, (a, b)) in g.iter().zip(&w).enumerate() {
            let ok = if b.is_nan() { a.is_nan() } else { (a - b).abs() <= tol * (b.abs() + scale) };
            if !ok {
                eprintln!("FAIL {what}: element {i}: got {a}, want {b} (tol {tol:e})");
                self.failures += 1;
                return Ok(());
            }
        }
        Ok(())
    }
}

/// xent's function of an input of the given dtype.
type XentFn = Box<dyn Fn(&Tensor, DType) -> R<Tensor>>;
/// A reference written with candle's ops.
type RefFn = Box<dyn Fn(&Tensor) -> R<Tensor>>;

/// The input and closures of one check.
struct Case {
    name: &'static str,
    x: Tensor,
    /// xent's function of the input (of the dtype given).
    xent: XentFn,
    /// The same function with candle's own ops (called in f64).
    reference: RefFn,
}

fn randn(rng: &mut SplitMix64, shape: &[usize], s: f64) -> R<Tensor> {
    let n = shape.iter().product();
    Tensor::from_vec((0..n).map(|_| s * rng.normal()).collect::<Vec<f64>>(), shape, &DEV)
}

fn uniform(rng: &mut SplitMix64, shape: &[usize], lo: f64, hi: f64) -> R<Tensor> {
    let n = shape.iter().product();
    Tensor::from_vec((0..n).map(|_| rng.uniform(lo, hi)).collect::<Vec<f64>>(), shape, &DEV)
}

fn labels(rng: &mut SplitMix64, n: usize, c: usize) -> Vec<i64> {
    (0..n).map(|_| rng.index(c) as i64).collect()
}

/// `(N, C, d1, …)` as `(N·d1·…, C)`: the class axis last, one row per position.
fn rows(x: &Tensor) -> R<Tensor> {
    let c = x.dims()[1];
    match x.rank() {
        2 => Ok(x.clone()),
        _ => x.flatten_from(2)?.transpose(1, 2)?.contiguous()?.reshape(((), c)),
    }
}

/// PyTorch's cross-entropy with index targets, written with candle ops.
fn ref_ce_idx(lp: &Tensor, y: &[i64], w: Option<&[f64]>, ignore: i64, eps: f64, red: Reduction, pshape: &[usize]) -> R<Tensor> {
    let lp2 = rows(lp)?;
    let c = lp2.dims()[1];
    let wv: Vec<f64> = w.map_or(vec![1.0; c], |w| w.to_vec());
    let mask: Vec<f64> = y.iter().map(|&v| if v == ignore { 0.0 } else { 1.0 }).collect();
    let safe: Vec<u32> = y.iter().map(|&v| if v == ignore { 0 } else { v as u32 }).collect();
    let wy: Vec<f64> = safe.iter().zip(&mask).map(|(&k, &m)| wv[k as usize] * m).collect();
    let m = y.len();
    let picked = lp2.gather(&Tensor::from_vec(safe, (m, 1), &DEV)?, 1)?.squeeze(1)?;
    let nll = (picked.neg()? * Tensor::from_vec(wy.clone(), m, &DEV)?)?;
    let smooth = (lp2.broadcast_mul(&Tensor::from_vec(wv, (1, c), &DEV)?)?.sum(1)?.neg()? * Tensor::from_vec(mask, m, &DEV)?)?;
    let loss = ((nll * (1.0 - eps))? + (smooth * (eps / c as f64))?)?;
    match red {
        Reduction::None => loss.reshape(pshape),
        Reduction::Sum => loss.sum_all(),
        Reduction::Mean => loss.sum_all()? / wy.iter().sum::<f64>(),
    }
}

fn cases(rng: &mut SplitMix64) -> R<Vec<Case>> {
    let mut v: Vec<Case> = Vec::new();
    let ls = |x: &Tensor| candle_nn::ops::log_softmax(x, 1);

    for (name, dim) in [("softmax dim 1 (rank 3)", 1i64), ("softmax dim -1 (rank 3)", -1)] {
        let d = if dim < 0 { 2 } else { dim as usize };
        v.push(Case {
            name,
            x: randn(rng, &[3, 4, 5], 2.0)?,
            xent: Box::new(move |x, _| xc::softmax(x, dim)),
            reference: Box::new(move |x| candle_nn::ops::softmax(x, d)),
        });
    }
    v.push(Case {
        name: "log_softmax dim 0 (transposed input)",
        x: randn(rng, &[5, 4], 2.0)?,
        xent: Box::new(|x, _| xc::log_softmax(&x.t()?, 0)),
        reference: Box::new(|x| candle_nn::ops::log_softmax(&x.t()?, 0)),
    });
    v.push(Case {
        name: "log_softmax dim D::Minus2 (rank 3)",
        x: randn(rng, &[2, 6, 3], 2.0)?,
        xent: Box::new(|x, _| xc::log_softmax(x, 1)),
        reference: Box::new(|x| candle_nn::ops::log_softmax(x, 1)),
    });

    // cross_entropy, index targets
    {
        let y = labels(rng, 6, 5);
        let yt = Tensor::from_vec(y.iter().map(|&v| v as u32).collect::<Vec<_>>(), 6, &DEV)?;
        let y2 = y.clone();
        v.push(Case {
            name: "cross_entropy u32 labels, mean",
            x: randn(rng, &[6, 5], 2.0)?,
            xent: Box::new(move |x, _| xc::cross_entropy(x, &yt, &CrossEntropyArgs::default())),
            reference: Box::new(move |x| ref_ce_idx(&ls(x)?, &y2, None, -100, 0.0, Reduction::Mean, &[6])),
        });
    }
    {
        let y = labels(rng, 7, 4);
        let yt = Tensor::from_vec(y.iter().map(|&v| v as u8).collect::<Vec<_>>(), 7, &DEV)?;
        let w = vec![0.5, 2.0, 1.0, 3.0];
        let (y2, w2) = (y.clone(), w.clone());
        v.push(Case {
            name: "cross_entropy u8 labels, weight, ignore_index 2, smoothing 0.1, mean",
            x: randn(rng, &[7, 4], 2.0)?,
            xent: Box::new(move |x, dt| {
                let args = CrossEntropyArgs {
                    weight: Some(Tensor::new(w.as_slice(), &DEV)?.to_dtype(dt)?),
                    ignore_index: 2,
                    label_smoothing: 0.1,
                    ..Default::default()
                };
                xc::cross_entropy(x, &yt, &args)
            }),
            reference: Box::new(move |x| ref_ce_idx(&ls(x)?, &y2, Some(&w2), 2, 0.1, Reduction::Mean, &[7])),
        });
    }
    {
        let mut y = labels(rng, 2 * 3, 4);
        y[1] = -100;
        let yt = Tensor::from_vec(y.clone(), (2, 3), &DEV)?;
        let w = vec![1.5, 0.5, 1.0, 2.0];
        let (y2, w2) = (y.clone(), w.clone());
        v.push(Case {
            name: "cross_entropy rank 3 (N, C, d), i64 labels with -100, weight, smoothing 0.2, sum",
            x: randn(rng, &[2, 4, 3], 2.0)?,
            xent: Box::new(move |x, dt| {
                let args = CrossEntropyArgs {
                    weight: Some(Tensor::new(w.as_slice(), &DEV)?.to_dtype(dt)?),
                    label_smoothing: 0.2,
                    reduction: Reduction::Sum,
                    ..Default::default()
                };
                xc::cross_entropy(x, &yt, &args)
            }),
            reference: Box::new(move |x| ref_ce_idx(&ls(x)?, &y2, Some(&w2), -100, 0.2, Reduction::Sum, &[2, 3])),
        });
    }
    {
        let y = labels(rng, 5, 3);
        let yt = Tensor::from_vec(y.iter().map(|&v| v as i32).collect::<Vec<_>>(), 5, &DEV)?;
        let y2 = y.clone();
        v.push(Case {
            name: "cross_entropy i32 labels, reduction none",
            x: randn(rng, &[5, 3], 2.0)?,
            xent: Box::new(move |x, _| xc::cross_entropy(x, &yt, &CrossEntropyArgs { reduction: Reduction::None, ..Default::default() })),
            reference: Box::new(move |x| ref_ce_idx(&ls(x)?, &y2, None, -100, 0.0, Reduction::None, &[5])),
        });
    }
    {
        let y = labels(rng, 6, 4);
        let yt = Tensor::from_vec(y.iter().map(|&v| v as u32).collect::<Vec<_>>(), 6, &DEV)?;
        let y2 = y.clone();
        v.push(Case {
            name: "cross_entropy transposed (non-contiguous) input",
            x: randn(rng, &[4, 6], 2.0)?,
            xent: Box::new(move |x, _| xc::cross_entropy(&x.t()?, &yt, &CrossEntropyArgs::default())),
            reference: Box::new(move |x| ref_ce_idx(&ls(&x.t()?)?, &y2, None, -100, 0.0, Reduction::Mean, &[6])),
        });
    }
    {
        // a narrowed view (start offset, row stride 6) and a broadcast one (stride 0)
        let y = labels(rng, 5, 4);
        let yt = Tensor::from_vec(y.iter().map(|&v| v as u32).collect::<Vec<_>>(), 5, &DEV)?;
        let y2 = y.clone();
        v.push(Case {
            name: "cross_entropy narrowed input (offset, strided rows)",
            x: randn(rng, &[5, 6], 2.0)?,
            xent: Box::new(move |x, _| xc::cross_entropy(&x.narrow(1, 1, 4)?, &yt, &CrossEntropyArgs::default())),
            reference: Box::new(move |x| ref_ce_idx(&ls(&x.narrow(1, 1, 4)?)?, &y2, None, -100, 0.0, Reduction::Mean, &[5])),
        });
        let y = labels(rng, 3, 5);
        let yt = Tensor::from_vec(y.iter().map(|&v| v as u32).collect::<Vec<_>>(), 3, &DEV)?;
        let y2 = y.clone();
        v.push(Case {
            name: "cross_entropy broadcast input (stride 0), sum",
            x: randn(rng, &[1, 5], 2.0)?,
            xent: Box::new(move |x, _| {
                xc::cross_entropy(&x.broadcast_as((3, 5))?, &yt, &CrossEntropyArgs { reduction: Reduction::Sum, ..Default::default() })
            }),
            reference: Box::new(move |x| ref_ce_idx(&ls(&x.broadcast_as((3, 5))?)?, &y2, None, -100, 0.0, Reduction::Sum, &[3])),
        });
        v.push(Case {
            name: "softmax broadcast input (stride 0)",
            x: randn(rng, &[4, 1], 2.0)?,
            xent: Box::new(|x, _| xc::softmax(&x.broadcast_as((4, 3))?, 0)),
            reference: Box::new(|x| candle_nn::ops::softmax(&x.broadcast_as((4, 3))?, 0)),
        });
    }
    // cross_entropy, probability targets
    {
        let t = candle_nn::ops::softmax(&randn(rng, &[5, 4], 1.5)?, 1)?;
        let w = vec![1.0, 0.25, 2.0, 1.5];
        let (t2, w2) = (t.clone(), w.clone());
        v.push(Case {
            name: "cross_entropy probability targets, weight, smoothing 0.3, mean",
            x: randn(rng, &[5, 4], 2.0)?,
            xent: Box::new(move |x, dt| {
                let args = CrossEntropyArgs {
                    weight: Some(Tensor::new(w.as_slice(), &DEV)?.to_dtype(dt)?),
                    label_smoothing: 0.3,
                    ..Default::default()
                };
                xc::cross_entropy(x, &t.to_dtype(dt)?, &args)
            }),
            reference: Box::new(move |x| {
                let ts = ((&t2 * 0.7)? + 0.3 / 4.0)?;
                let wt = Tensor::new(w2.as_slice(), &DEV)?.unsqueeze(0)?;
                (ls(x)? * ts)?.broadcast_mul(&wt)?.sum(1)?.neg()?.mean_all()
            }),
        });
    }
    // nll_loss
    {
        let mut y = labels(rng, 2 * 3, 5);
        y[4] = -100;
        let yt = Tensor::from_vec(y.clone(), (2, 3), &DEV)?;
        let w = vec![1.0, 2.0, 0.5, 1.0, 3.0];
        let (y2, w2) = (y.clone(), w.clone());
        v.push(Case {
            name: "nll_loss rank 3, weight, -100 ignored, mean",
            x: randn(rng, &[2, 5, 3], 1.0)?,
            xent: Box::new(move |x, dt| {
                let args = CrossEntropyArgs { weight: Some(Tensor::new(w.as_slice(), &DEV)?.to_dtype(dt)?), ..Default::default() };
                xc::nll_loss(x, &yt, &args)
            }),
            reference: Box::new(move |x| ref_ce_idx(x, &y2, Some(&w2), -100, 0.0, Reduction::Mean, &[2, 3])),
        });
    }
    // binary_cross_entropy (probabilities inside (0, 1))
    {
        let t = uniform(rng, &[4, 3], 0.0, 1.0)?;
        let w = uniform(rng, &[1, 3], 0.5, 2.0)?;
        let (t2, w2) = (t.clone(), w.clone());
        v.push(Case {
            name: "binary_cross_entropy, broadcast weight, mean",
            x: uniform(rng, &[4, 3], 0.05, 0.95)?,
            xent: Box::new(move |x, dt| xc::binary_cross_entropy(x, &t.to_dtype(dt)?, Some(&w.to_dtype(dt)?), Reduction::Mean)),
            reference: Box::new(move |x| {
                let one_m = |a: &Tensor| a.affine(-1.0, 1.0);
                let l = ((&t2 * x.log()?)? + (one_m(&t2)? * one_m(x)?.log()?)?)?.neg()?;
                l.broadcast_mul(&w2)?.mean_all()
            }),
        });
    }
    // binary_cross_entropy_with_logits
    {
        let t = uniform(rng, &[4, 3], 0.0, 1.0)?;
        let w = uniform(rng, &[4, 1], 0.5, 2.0)?;
        let pw = uniform(rng, &[3], 0.5, 4.0)?;
        let (t2, w2, pw2) = (t.clone(), w.clone(), pw.clone());
        v.push(Case {
            name: "binary_cross_entropy_with_logits, weight, pos_weight, sum",
            x: randn(rng, &[4, 3], 3.0)?,
            xent: Box::new(move |x, dt| {
                xc::binary_cross_entropy_with_logits(x, &t.to_dtype(dt)?, Some(&w.to_dtype(dt)?), Some(&pw.to_dtype(dt)?), Reduction::Sum)
            }),
            reference: Box::new(move |x| {
                // (1 − t)·x + (1 + (pw − 1)·t)·softplus(−x)
                let softplus_neg = (x.neg()?.exp()? + 1.0)?.log()?;
                let coef = (t2.broadcast_mul(&(&pw2 - 1.0)?.unsqueeze(0)?)? + 1.0)?;
                let l = ((t2.affine(-1.0, 1.0)? * x)? + (coef * softplus_neg)?)?;
                l.broadcast_mul(&w2)?.sum_all()
            }),
        });
        let t = uniform(rng, &[6], 0.0, 1.0)?;
        let t2 = t.clone();
        v.push(Case {
            name: "binary_cross_entropy_with_logits, reduction none",
            x: randn(rng, &[6], 3.0)?,
            xent: Box::new(move |x, dt| xc::binary_cross_entropy_with_logits(x, &t.to_dtype(dt)?, None, None, Reduction::None)),
            reference: Box::new(move |x| {
                let softplus_neg = (x.neg()?.exp()? + 1.0)?.log()?;
                (t2.affine(-1.0, 1.0)? * x)? + softplus_neg
            }),
        });
    }
    // kl_div
    {
        let t = candle_nn::ops::softmax(&randn(rng, &[3, 4], 1.0)?, 1)?;
        let t2 = t.clone();
        v.push(Case {
            name: "kl_div batchmean",
            x: randn(rng, &[3, 4], 1.0)?,
            xent: Box::new(move |x, dt| {
                xc::kl_div(x, &t.to_dtype(dt)?, &KlDivArgs { reduction: KlReduction::BatchMean, log_target: false })
            }),
            reference: Box::new(move |x| ((t2.log()? - x)? * &t2)?.sum_all()? / 3.0),
        });
        let lt = randn(rng, &[2, 5], 1.0)?;
        let lt2 = lt.clone();
        v.push(Case {
            name: "kl_div log_target, mean",
            x: randn(rng, &[2, 5], 1.0)?,
            xent: Box::new(move |x, dt| xc::kl_div(x, &lt.to_dtype(dt)?, &KlDivArgs { reduction: KlReduction::Mean, log_target: true })),
            reference: Box::new(move |x| ((&lt2 - x)? * lt2.exp()?)?.mean_all()),
        });
    }
    Ok(v)
}

/// `Σ out ⊙ proj` and its gradient with respect to the leaf `x`.
fn value_and_grad(f: &dyn Fn(&Tensor) -> R<Tensor>, x: &Tensor, proj: Option<&Tensor>) -> R<(Tensor, Tensor, Tensor)> {
    let v = Var::from_tensor(x)?;
    let out = f(v.as_tensor())?;
    let p = match proj {
        Some(p) => p.clone(),
        None => Tensor::ones(out.dims(), DType::F64, &DEV)?,
    };
    let s = (out.to_dtype(DType::F64)? * &p)?.sum_all()?;
    let g = s.backward()?.get(&v).cloned().ok_or_else(|| candle_core::Error::msg("no gradient reached the input"))?;
    Ok((out, g, p))
}

fn gradient_checks() -> R<usize> {
    let mut rng = SplitMix64::new(7);
    let mut ck = Checker::default();
    for case in cases(&mut rng)? {
        // A random projection of the output, so every output element's gradient counts.
        let out_dims = (case.reference)(&case.x)?.dims().to_vec();
        let proj = randn(&mut rng, &out_dims, 1.0)?;
        for (dt, tol) in [(DType::F64, 1e-10), (DType::F32, 1e-5), (DType::F16, 4e-3), (DType::BF16, 3e-2)] {
            let what = format!("{} [{}]", case.name, dt.as_str());
            let x = case.x.to_dtype(dt)?;
            let (out, g, _) = value_and_grad(&|x| (case.xent)(x, dt), &x, Some(&proj))?;
            if out.dtype() != dt || g.dtype() != dt {
                eprintln!("FAIL {what}: output dtype {:?}, gradient dtype {:?}", out.dtype(), g.dtype());
                ck.failures += 1;
            }
            // candle's own ops, in f64, at the same (rounded) input
            let xr = x.to_dtype(DType::F64)?;
            let (want, gwant, _) = value_and_grad(&*case.reference, &xr, Some(&proj))?;
            ck.close(&format!("{what}: value vs candle ops"), &out, &want, tol)?;
            ck.close(&format!("{what}: gradient vs candle ops"), &g, &gwant, tol)?;
            if dt == DType::F64 {
                // central finite differences of xent's forward
                let base = xr.flatten_all()?.to_vec1::<f64>()?;
                let h = 1e-6;
                let mut fd = Vec::with_capacity(base.len());
                let s = |v: &[f64]| -> R<f64> {
                    let t = Tensor::from_vec(v.to_vec(), xr.dims(), &DEV)?;
                    (case.xent)(&t, DType::F64)?.mul(&proj)?.sum_all()?.to_scalar::<f64>()
                };
                for i in 0..base.len() {
                    let (mut p, mut m) = (base.clone(), base.clone());
                    p[i] += h;
                    m[i] -= h;
                    fd.push((s(&p)? - s(&m)?) / (2.0 * h));
                }
                let fd = Tensor::from_vec(fd, xr.dims(), &DEV)?;
                ck.close(&format!("{what}: gradient vs finite differences"), &g, &fd, 1e-6)?;
            }
        }
    }
    println!("gradient checks: {} comparisons, {} failed", ck.checks, ck.failures);
    Ok(ck.failures)
}

// ------------------------------------------------------------------------------------
// 3. Bad input gives an error, not a panic.

fn error_checks() -> R<usize> {
    let mut failures = 0;
    let x = Tensor::zeros((2, 3), DType::F32, &DEV)?;
    let bad: [(&str, R<Tensor>); 5] = [
        ("label out of range", xc::cross_entropy(&x, &Tensor::new(&[0u32, 3], &DEV)?, &CrossEntropyArgs::default())),
        ("batch mismatch", xc::cross_entropy(&x, &Tensor::new(&[0u32, 1, 2], &DEV)?, &CrossEntropyArgs::default())),
        ("integer input", xc::softmax(&Tensor::new(&[1u32, 2], &DEV)?, 0)),
        ("dim out of range", xc::log_softmax(&x, 2)),
        ("f64 weight on f32 input", {
            let w = Tensor::ones(3, DType::F64, &DEV)?;
            xc::cross_entropy(&x, &Tensor::new(&[0u32, 1], &DEV)?, &CrossEntropyArgs { weight: Some(w), ..Default::default() })
        }),
    ];
    // candle-nn's BCE with logits is log(sigmoid(x)): inf where xent's is finite
    let x = Tensor::new(&[-200.0f32], &DEV)?;
    let t = Tensor::new(&[1.0f32], &DEV)?;
    let peer = candle_nn::loss::binary_cross_entropy_with_logit(&x, &t)?.to_scalar::<f32>()?;
    let ours = xc::binary_cross_entropy_with_logits(&x, &t, None, None, Reduction::Mean)?.to_scalar::<f32>()?;
    println!("errors: BCE with logits at x = -200, t = 1: candle-nn {peer}, xent {ours}");
    if ours != 200.0 {
        eprintln!("FAIL errors: xent's BCE with logits at x = -200 is {ours}, want 200");
        failures += 1;
    }
    for (what, r) in bad {
        match r {
            Ok(_) => {
                eprintln!("FAIL errors: {what} was accepted");
                failures += 1;
            }
            Err(e) => println!("errors: {what}: {e}"),
        }
    }
    Ok(failures)
}

//! Bad input never panics: every public gradient / VJP of the front-ends (jax, tf,
//! keras, torch, cce) and of the core ops, fed an upstream gradient of the wrong shape
//! (or a weight, mask, target or gradient buffer of the wrong shape), returns an
//! `xent::Error` (a `Shape` error naming the shapes) and never panics.
//!
//! The op table (`xent::registry::eval` with `grad`) always builds the upstream of
//! `sum(output)` itself, with the right shape, so the upstream cases call the public
//! functions directly. Every case runs under `catch_unwind`, so one run lists every
//! function that panics (by name and input) instead of stopping at the first.

use std::panic::{catch_unwind, AssertUnwindSafe};

use half::f16;
use ndarray::{Array2, ArrayD, IxDyn};
use xent::kernels::DenseGrad;
use xent::ops::{self, InputGrad, KlReduction, LinearCeOptions, LinearTarget, LinearWants, Reduction, Solo, SparseOptions};
use xent::torch::{CrossEntropyArgs, KlDivArgs, LinearCrossEntropyArgs, Target};
use xent::{Error, Par};

/// Upstream shapes that are wrong for every case below, whose outputs have shape
/// `[]`, `[2]` or `[2, 3]`: fewer elements than the output, more, none, the same number
/// in another shape (`[3, 2]`), one more axis.
const BAD: [&[usize]; 7] = [&[1], &[5], &[7], &[0], &[3, 2], &[2, 3, 4], &[2, 4]];

/// Values valid for every input kind (logits, probabilities, labels in [0, 1]).
fn a(shape: &[usize]) -> ArrayD<f64> {
    ArrayD::from_elem(IxDyn(shape), 0.3)
}

fn labels(shape: &[usize]) -> ArrayD<i64> {
    ArrayD::zeros(IxDyn(shape))
}

fn mask(shape: &[usize]) -> ArrayD<bool> {
    ArrayD::from_elem(IxDyn(shape), true)
}

fn a2(r: usize, c: usize) -> Array2<f64> {
    Array2::from_elem((r, c), 0.3)
}

type Case = (String, Box<dyn Fn() -> Result<(), Error>>);

fn case<R>(cases: &mut Vec<Case>, name: String, f: impl Fn() -> Result<R, Error> + 'static) {
    cases.push((name, Box::new(move || f().map(|_| ()))));
}

/// One case per function and wrong upstream shape `s` (`x` is `[2, 3]`, classes on
/// the last axis; `y` the matching labels `[2]`).
fn upstream_cases(cases: &mut Vec<Case>) {
    for s in BAD {
        let s: Vec<usize> = s.to_vec();
        macro_rules! up {
            ($name:expr, |$g:ident| $body:expr) => {{
                let s = s.clone();
                case(cases, format!("{} with upstream {:?}", $name, s), move || {
                    let gy = a(&s);
                    let $g = &gy.view();
                    $body
                });
            }};
        }
        let x = || a(&[2, 3]);
        let y = || labels(&[2]);
        // ---------------------------------------------------------------- jax
        up!("jax::softmax_grad", |g| xent::jax::softmax_grad(&x().view(), None, -1, g));
        up!("jax::log_softmax_grad", |g| xent::jax::log_softmax_grad(&x().view(), None, -1, g));
        up!("jax::logsumexp_grad", |g| xent::jax::logsumexp_grad(&x().view(), Some(-1), false, g));
        up!("jax::logsumexp_grad(keepdims)", |g| xent::jax::logsumexp_grad(&x().view(), Some(-1), true, g));
        up!("jax::logsumexp_grad(axis=None)", |g| xent::jax::logsumexp_grad(&x().view(), None, false, g));
        up!("jax::sigmoid_grad", |g| xent::jax::sigmoid_grad(&x().view(), g));
        up!("jax::log_sigmoid_grad", |g| xent::jax::log_sigmoid_grad(&x().view(), g));
        up!("jax::softmax_cross_entropy_grad", |g| xent::jax::softmax_cross_entropy_grad(&x().view(), &x().view(), None, -1, g));
        up!("jax::softmax_cross_entropy_with_integer_labels_grad", |g| {
            xent::jax::softmax_cross_entropy_with_integer_labels_grad(&x().view(), &y().view(), None, -1, g)
        });
        up!("jax::safe_softmax_cross_entropy_grad", |g| xent::jax::safe_softmax_cross_entropy_grad(&x().view(), &x().view(), g));
        up!("jax::sigmoid_binary_cross_entropy_grad", |g| xent::jax::sigmoid_binary_cross_entropy_grad(&x().view(), &x().view(), g));
        up!("jax::sigmoid_focal_loss_grad", |g| xent::jax::sigmoid_focal_loss_grad(&x().view(), &x().view(), Some(0.25), 2.0, g));
        up!("jax::poly_loss_cross_entropy_grad", |g| xent::jax::poly_loss_cross_entropy_grad(&x().view(), &x().view(), None, 2.0, -1, g));
        up!("jax::kl_divergence_grad", |g| xent::jax::kl_divergence_grad(&x().view(), &x().view(), None, Some(-1), g));
        up!("jax::convex_kl_divergence_grad", |g| xent::jax::convex_kl_divergence_grad(&x().view(), &x().view(), None, Some(-1), g));
        up!("jax::kl_divergence_with_log_targets_grad", |g| {
            xent::jax::kl_divergence_with_log_targets_grad(&x().view(), &x().view(), None, Some(-1), g)
        });
        up!("jax::smooth_labels_grad", |g| xent::jax::smooth_labels_grad(&x().view(), None, 0.1, -1, g));
        // ----------------------------------------------------------------- tf
        up!("tf::softmax_grad", |g| xent::tf::softmax_grad(&x().view(), -1, g));
        up!("tf::log_softmax_grad", |g| xent::tf::log_softmax_grad(&x().view(), -1, g));
        up!("tf::sigmoid_grad", |g| xent::tf::sigmoid_grad(&x().view(), g));
        up!("tf::log_sigmoid_grad", |g| xent::tf::log_sigmoid_grad(&x().view(), g));
        up!("tf::softmax_cross_entropy_with_logits_grad", |g| xent::tf::softmax_cross_entropy_with_logits_grad(
            &x().view(),
            &x().view(),
            -1,
            g
        ));
        up!("tf::sparse_softmax_cross_entropy_with_logits_grad", |g| {
            xent::tf::sparse_softmax_cross_entropy_with_logits_grad(&y().view(), &x().view(), g)
        });
        up!("tf::sigmoid_cross_entropy_with_logits_grad", |g| xent::tf::sigmoid_cross_entropy_with_logits_grad(
            &x().view(),
            &x().view(),
            g
        ));
        up!("tf::weighted_cross_entropy_with_logits_grad", |g| {
            xent::tf::weighted_cross_entropy_with_logits_grad(&x().view(), &x().view(), 2.0, g)
        });
        // -------------------------------------------------------------- keras
        for logits in [false, true] {
            up!(format!("keras::categorical_crossentropy_grad(from_logits={logits})"), |g| {
                xent::keras::categorical_crossentropy_grad(&x().view(), &x().view(), logits, 0.1, -1, g)
            });
            up!(format!("keras::sparse_categorical_crossentropy_grad(from_logits={logits})"), |g| {
                xent::keras::sparse_categorical_crossentropy_grad(&y().view(), &x().view(), logits, None, -1, g)
            });
            up!(format!("keras::binary_crossentropy_grad(from_logits={logits})"), |g| {
                xent::keras::binary_crossentropy_grad(&x().view(), &x().view(), logits, 0.1, -1, g)
            });
            up!(format!("keras::categorical_focal_crossentropy_grad(from_logits={logits})"), |g| {
                xent::keras::categorical_focal_crossentropy_grad(&x().view(), &x().view(), 0.25, 2.0, logits, 0.1, -1, g)
            });
            up!(format!("keras::binary_focal_crossentropy_grad(from_logits={logits})"), |g| {
                xent::keras::binary_focal_crossentropy_grad(&x().view(), &x().view(), true, 0.25, 2.0, logits, 0.1, -1, g)
            });
        }
        up!("keras::kl_divergence_grad", |g| xent::keras::kl_divergence_grad(&x().view(), &x().view(), g));
        for r in [xent::keras::KerasReduction::None, xent::keras::KerasReduction::SumOverBatchSize] {
            up!(format!("keras::CategoricalCrossentropy::grad({r:?})"), |g| {
                let l = xent::keras::CategoricalCrossentropy { reduction: r, ..Default::default() };
                l.grad(&x().view(), &x().view(), None, g)
            });
            up!(format!("keras::SparseCategoricalCrossentropy::grad({r:?})"), |g| {
                let l = xent::keras::SparseCategoricalCrossentropy { reduction: r, ..Default::default() };
                l.grad(&y().view(), &x().view(), None, g)
            });
            up!(format!("keras::BinaryCrossentropy::grad({r:?})"), |g| {
                let l = xent::keras::BinaryCrossentropy { reduction: r, ..Default::default() };
                l.grad(&x().view(), &x().view(), None, g)
            });
            up!(format!("keras::KLDivergence::grad({r:?})"), |g| {
                let l = xent::keras::KLDivergence { reduction: r };
                l.grad(&x().view(), &x().view(), None, g)
            });
            up!(format!("keras::BinaryFocalCrossentropy::grad({r:?})"), |g| {
                let l = xent::keras::BinaryFocalCrossentropy { reduction: r, ..Default::default() };
                l.grad(&x().view(), &x().view(), None, g)
            });
            up!(format!("keras::CategoricalFocalCrossentropy::grad({r:?})"), |g| {
                let l = xent::keras::CategoricalFocalCrossentropy { reduction: r, ..Default::default() };
                l.grad(&x().view(), &x().view(), None, g)
            });
        }
        // -------------------------------------------------------------- torch
        up!("torch::softmax_grad", |g| xent::torch::softmax_grad(&x(), 1, g));
        up!("torch::log_softmax_grad", |g| xent::torch::log_softmax_grad(&x(), 1, g));
        up!("torch::sigmoid_grad", |g| xent::torch::sigmoid_grad(&x(), g));
        up!("torch::logsigmoid_grad", |g| xent::torch::logsigmoid_grad(&x(), g));
        for r in [Reduction::None, Reduction::Mean, Reduction::Sum] {
            up!(format!("torch::cross_entropy_grad(indices, {r:?})"), |g| {
                let args = CrossEntropyArgs { reduction: r, ..Default::default() };
                xent::torch::cross_entropy_grad(&x(), Target::Indices(y().view()), &args, g)
            });
            up!(format!("torch::cross_entropy_grad(probs, {r:?})"), |g| {
                let args = CrossEntropyArgs { reduction: r, ..Default::default() };
                xent::torch::cross_entropy_grad(&x(), Target::Probs(x().view()), &args, g)
            });
            up!(format!("torch::nll_loss_grad({r:?})"), |g| {
                let args = CrossEntropyArgs { reduction: r, ..Default::default() };
                xent::torch::nll_loss_grad(&x(), &y(), &args, g)
            });
            up!(format!("torch::binary_cross_entropy_grad({r:?})"), |g| xent::torch::binary_cross_entropy_grad(&x(), &x(), None, r, g));
            up!(format!("torch::binary_cross_entropy_with_logits_grad({r:?})"), |g| {
                xent::torch::binary_cross_entropy_with_logits_grad(&x(), &x(), None, None, r, g)
            });
            up!(format!("torch::linear_cross_entropy_grad({r:?})"), |g| {
                let args = LinearCrossEntropyArgs { reduction: r, ..Default::default() };
                xent::torch::linear_cross_entropy_grad(
                    &x().view(),
                    &a(&[4, 3]).view(),
                    Target::Indices(y().view()),
                    &args,
                    g,
                    LinearWants::ALL,
                )
            });
            up!(format!("cce::linear_cross_entropy_grad({r:?})"), |g| {
                let args = xent::cce::CceArgs { reduction: r, ..Default::default() };
                xent::cce::linear_cross_entropy_grad(&x().view(), &a(&[4, 3]).view(), &y().view(), &args, g, LinearWants::ALL)
            });
        }
        for r in [KlReduction::None, KlReduction::BatchMean, KlReduction::Sum, KlReduction::Mean] {
            up!(format!("torch::kl_div_grad({r:?})"), |g| {
                xent::torch::kl_div_grad(&x(), &x(), &KlDivArgs { reduction: r, log_target: false }, g)
            });
            up!(format!("ops::kl_div_vjp({r:?})"), |g| ops::kl_div_vjp(&x().view(), &x().view(), false, r, g));
        }
        // ---------------------------------------------------------------- ops
        let seq = Par::Seq;
        up!("ops::softmax_vjp", |g| ops::softmax_vjp(&x().view(), g, 1, seq));
        up!("ops::softmax_vjp_from_input", |g| ops::softmax_vjp_from_input(&x().view(), g, 1, seq));
        up!("ops::log_softmax_vjp", |g| ops::log_softmax_vjp(&x().view(), g, 1, seq));
        up!("ops::log_softmax_vjp_from_input", |g| ops::log_softmax_vjp_from_input(&x().view(), g, 1, seq));
        up!("ops::sigmoid_vjp", |g| ops::sigmoid_vjp(&x().view(), g));
        up!("ops::sigmoid_vjp_from_input", |g| ops::sigmoid_vjp_from_input(&x().view(), g));
        up!("ops::sigmoid_recip_vjp", |g| ops::sigmoid_recip_vjp(&x().view(), g));
        up!("ops::log_sigmoid_vjp", |g| ops::log_sigmoid_vjp(&x().view(), g));
        for r in [Reduction::None, Reduction::Mean, Reduction::Sum] {
            up!(format!("ops::binary_cross_entropy_vjp({r:?})"), |g| ops::binary_cross_entropy_vjp(&x().view(), &x().view(), None, r, g));
            up!(format!("ops::binary_cross_entropy_with_logits_vjp({r:?})"), |g| {
                ops::binary_cross_entropy_with_logits_vjp(&x().view(), &x().view(), None, None, r, g)
            });
            up!(format!("ops::cross_entropy_sparse_vjp({r:?})"), |g| {
                let o = SparseOptions { reduction: r, ..Default::default() };
                ops::cross_entropy_sparse_vjp(&x().view(), 1, &y().view(), &o, g, seq)
            });
            up!(format!("ops::nll_loss_vjp({r:?})"), |g| {
                let o = SparseOptions { reduction: r, ..Default::default() };
                ops::nll_loss_vjp(&x().view(), 1, &y().view(), &o, g)
            });
            for mode in [DenseGrad::Kernel, DenseGrad::Exact] {
                up!(format!("ops::cross_entropy_dense_vjp({r:?}, {mode:?})"), |g| {
                    ops::cross_entropy_dense_vjp(&x().view(), &x().view(), 1, None, 0.0, r, mode, g, seq)
                });
            }
            up!(format!("ops::linear_cross_entropy_vjp(indices, {r:?})"), |g| {
                let o = LinearCeOptions { reduction: r, ..Default::default() };
                ops::linear_cross_entropy_vjp(
                    &a2(2, 3).view(),
                    &a2(4, 3).view(),
                    &LinearTarget::Indices(&[0, 1]),
                    &o,
                    g,
                    LinearWants::ALL,
                    seq,
                )
            });
            up!(format!("ops::linear_cross_entropy_vjp(probs, {r:?})"), |g| {
                let o = LinearCeOptions { reduction: r, ..Default::default() };
                let t = [0.25; 8];
                ops::linear_cross_entropy_vjp(&a2(2, 3).view(), &a2(4, 3).view(), &LinearTarget::Probs(&t), &o, g, LinearWants::ALL, seq)
            });
            up!(format!("ops::linear_cross_entropy_half_vjp({r:?})"), |g| {
                let o = LinearCeOptions { reduction: r, ..Default::default() };
                let gf = g.mapv(|v| v as f32);
                let (i, w) = (Array2::from_elem((2, 3), f16::from_f32(0.3)), Array2::from_elem((4, 3), f16::from_f32(0.3)));
                ops::linear_cross_entropy_half_vjp(&i.view(), &w.view(), &[0, 1], &o, &gf.view(), LinearWants::ALL, seq)
            });
            up!(format!("ops::cross_entropy_sharded_vjp({r:?})"), |g| {
                let o = SparseOptions { reduction: r, ..Default::default() };
                ops::cross_entropy_sharded_vjp(&Solo, &a2(2, 3).view(), &[0, 1], &o, g, seq)
            });
            up!(format!("ops::linear_cross_entropy_sharded_vjp({r:?})"), |g| {
                let o = LinearCeOptions { reduction: r, ..Default::default() };
                ops::linear_cross_entropy_sharded_vjp(
                    &Solo,
                    &a2(2, 3).view(),
                    &a2(4, 3).view(),
                    &[0, 1],
                    &o,
                    g,
                    LinearWants::ALL,
                    InputGrad::AllReduce,
                    seq,
                )
            });
        }
        up!("ops::sigmoid_cross_entropy_vjp", |g| ops::sigmoid_cross_entropy_vjp(&x().view(), &x().view(), g));
        up!("ops::weighted_sigmoid_cross_entropy_vjp", |g| ops::weighted_sigmoid_cross_entropy_vjp(&x().view(), &x().view(), 2.0, g));
        up!("ops::binary_crossentropy_clipped_vjp", |g| ops::binary_crossentropy_clipped_vjp(&x().view(), &x().view(), 1e-7, g));
        up!("ops::mean_axis_vjp", |g| ops::mean_axis_vjp(g, &[2, 3], 1));
        up!("ops::categorical_crossentropy_probs_vjp", |g| ops::categorical_crossentropy_probs_vjp(&x().view(), &x().view(), 1, 1e-7, g));
        up!("ops::sparse_categorical_crossentropy_probs_vjp", |g| ops::sparse_categorical_crossentropy_probs_vjp(
            &y().view(),
            &x().view(),
            1e-7,
            g
        ));
        up!("ops::categorical_focal_probs_vjp", |g| ops::categorical_focal_probs_vjp(&x().view(), &x().view(), 1, 0.25, 2.0, 1e-7, g));
        up!("ops::binary_focal_vjp", |g| ops::binary_focal_vjp(&x().view(), &x().view(), None, true, 0.25, 2.0, 1e-7, g));
        up!("ops::binary_focal_vjp(logits)", |g| ops::binary_focal_vjp(
            &x().view(),
            &x().view(),
            Some(&x().view()),
            true,
            0.25,
            2.0,
            1e-7,
            g
        ));
        up!("ops::kl_divergence_vjp", |g| ops::kl_divergence_vjp(&x().view(), &x().view(), 1e-7, g));
    }
}

/// Wrong shapes for the other inputs of the gradients: masks, weights, targets,
/// the gradient buffer of the fused steps (the upstream is right in each).
fn other_input_cases(cases: &mut Vec<Case>) {
    let x = || a(&[2, 3]);
    let y = || labels(&[2]);
    let gx = || a(&[2, 3]);
    let g0 = || a(&[]);
    let g2 = || a(&[2]);
    let m = |s: &'static [usize]| move || mask(s);
    // `where` broadcasts to the logits (NumPy rules): `[3]` would be valid.
    for ms in [&[2, 4][..], &[4][..], &[7][..], &[2, 3, 2][..]] {
        let mk = m(ms);
        case(cases, format!("jax::softmax_grad with where {ms:?}"), move || {
            xent::jax::softmax_grad(&x().view(), Some(&mk().view()), -1, &gx().view())
        });
        let mk = m(ms);
        case(cases, format!("jax::log_softmax_grad with where {ms:?}"), move || {
            xent::jax::log_softmax_grad(&x().view(), Some(&mk().view()), -1, &gx().view())
        });
        let mk = m(ms);
        case(cases, format!("jax::softmax_cross_entropy_grad with where {ms:?}"), move || {
            xent::jax::softmax_cross_entropy_grad(&x().view(), &x().view(), Some(&mk().view()), -1, &g2().view())
        });
        let mk = m(ms);
        case(cases, format!("jax::softmax_cross_entropy_with_integer_labels_grad with where {ms:?}"), move || {
            xent::jax::softmax_cross_entropy_with_integer_labels_grad(&x().view(), &y().view(), Some(&mk().view()), -1, &g2().view())
        });
        let mk = m(ms);
        case(cases, format!("jax::poly_loss_cross_entropy_grad with where {ms:?}"), move || {
            xent::jax::poly_loss_cross_entropy_grad(&x().view(), &x().view(), Some(&mk().view()), 2.0, -1, &g2().view())
        });
        let mk = m(ms);
        case(cases, format!("jax::kl_divergence_grad with where {ms:?}"), move || {
            xent::jax::kl_divergence_grad(&x().view(), &x().view(), Some(&mk().view()), Some(-1), &g2().view())
        });
        let mk = m(ms);
        case(cases, format!("jax::convex_kl_divergence_grad with where {ms:?}"), move || {
            xent::jax::convex_kl_divergence_grad(&x().view(), &x().view(), Some(&mk().view()), Some(-1), &g2().view())
        });
        let mk = m(ms);
        case(cases, format!("jax::kl_divergence_with_log_targets_grad with where {ms:?}"), move || {
            xent::jax::kl_divergence_with_log_targets_grad(&x().view(), &x().view(), Some(&mk().view()), Some(-1), &g2().view())
        });
        let mk = m(ms);
        case(cases, format!("jax::smooth_labels_grad with where {ms:?}"), move || {
            xent::jax::smooth_labels_grad(&x().view(), Some(&mk().view()), 0.1, -1, &gx().view())
        });
    }
    // Targets of the wrong shape.
    for ts in [&[2, 4][..], &[3, 3][..], &[6][..]] {
        case(cases, format!("jax::softmax_cross_entropy_grad with labels {ts:?}"), move || {
            xent::jax::softmax_cross_entropy_grad(&x().view(), &a(ts).view(), None, -1, &g2().view())
        });
        case(cases, format!("jax::safe_softmax_cross_entropy_grad with labels {ts:?}"), move || {
            xent::jax::safe_softmax_cross_entropy_grad(&x().view(), &a(ts).view(), &g2().view())
        });
        case(cases, format!("jax::sigmoid_binary_cross_entropy_grad with labels {ts:?}"), move || {
            xent::jax::sigmoid_binary_cross_entropy_grad(&x().view(), &a(ts).view(), &gx().view())
        });
        case(cases, format!("jax::sigmoid_focal_loss_grad with labels {ts:?}"), move || {
            xent::jax::sigmoid_focal_loss_grad(&x().view(), &a(ts).view(), Some(0.25), 2.0, &gx().view())
        });
        case(cases, format!("tf::softmax_cross_entropy_with_logits_grad with labels {ts:?}"), move || {
            xent::tf::softmax_cross_entropy_with_logits_grad(&a(ts).view(), &x().view(), -1, &g2().view())
        });
        case(cases, format!("tf::sigmoid_cross_entropy_with_logits_grad with labels {ts:?}"), move || {
            xent::tf::sigmoid_cross_entropy_with_logits_grad(&a(ts).view(), &x().view(), &gx().view())
        });
        case(cases, format!("tf::weighted_cross_entropy_with_logits_grad with labels {ts:?}"), move || {
            xent::tf::weighted_cross_entropy_with_logits_grad(&a(ts).view(), &x().view(), 2.0, &gx().view())
        });
        case(cases, format!("keras::kl_divergence_grad with y_true {ts:?}"), move || {
            xent::keras::kl_divergence_grad(&a(ts).view(), &x().view(), &g2().view())
        });
        case(cases, format!("torch::binary_cross_entropy_grad with target {ts:?}"), move || {
            xent::torch::binary_cross_entropy_grad(&x(), &a(ts), None, Reduction::Mean, &g0())
        });
        case(cases, format!("torch::cross_entropy_grad with probs {ts:?}"), move || {
            xent::torch::cross_entropy_grad(&x(), Target::Probs(a(ts).view()), &CrossEntropyArgs::default(), &g0())
        });
        case(cases, format!("torch::kl_div_grad with target {ts:?}"), move || {
            xent::torch::kl_div_grad(&x(), &a(ts), &KlDivArgs::default(), &g0())
        });
    }
    for ls in [&[3][..], &[2, 3][..], &[1, 2][..]] {
        case(cases, format!("tf::sparse_softmax_cross_entropy_with_logits_grad with labels {ls:?}"), move || {
            xent::tf::sparse_softmax_cross_entropy_with_logits_grad(&labels(ls).view(), &x().view(), &g2().view())
        });
        case(cases, format!("jax::softmax_cross_entropy_with_integer_labels_grad with labels {ls:?}"), move || {
            xent::jax::softmax_cross_entropy_with_integer_labels_grad(&x().view(), &labels(ls).view(), None, -1, &g2().view())
        });
        case(cases, format!("torch::nll_loss_grad with target {ls:?}"), move || {
            xent::torch::nll_loss_grad(&x(), &labels(ls), &CrossEntropyArgs::default(), &g0())
        });
        case(cases, format!("cce::linear_cross_entropy_grad with targets {ls:?}"), move || {
            let args = xent::cce::CceArgs::default();
            xent::cce::linear_cross_entropy_grad(&x().view(), &a(&[4, 3]).view(), &labels(ls).view(), &args, &g0().view(), LinearWants::ALL)
        });
    }
    // Per-class / element-wise weights of the wrong shape (`C` is 3; 4 for the linear
    // cross-entropy, whose projection is `[4, 3]`; the batch is 2).
    for ws in [&[5][..], &[2, 4][..], &[3, 3][..]] {
        case(cases, format!("torch::cross_entropy_grad with weight {ws:?}"), move || {
            let w = a(ws);
            let args = CrossEntropyArgs { weight: Some(w.view()), ..Default::default() };
            xent::torch::cross_entropy_grad(&x(), Target::Indices(y().view()), &args, &g0())
        });
        case(cases, format!("torch::cross_entropy_grad(probs) with weight {ws:?}"), move || {
            let w = a(ws);
            let args = CrossEntropyArgs { weight: Some(w.view()), ..Default::default() };
            xent::torch::cross_entropy_grad(&x(), Target::Probs(x().view()), &args, &g0())
        });
        case(cases, format!("torch::nll_loss_grad with weight {ws:?}"), move || {
            let w = a(ws);
            let args = CrossEntropyArgs { weight: Some(w.view()), ..Default::default() };
            xent::torch::nll_loss_grad(&x(), &y(), &args, &g0())
        });
        case(cases, format!("torch::binary_cross_entropy_grad with weight {ws:?}"), move || {
            xent::torch::binary_cross_entropy_grad(&x(), &x(), Some(&a(ws).view()), Reduction::Mean, &g0())
        });
        case(cases, format!("torch::binary_cross_entropy_with_logits_grad with weight {ws:?}"), move || {
            xent::torch::binary_cross_entropy_with_logits_grad(&x(), &x(), Some(&a(ws).view()), None, Reduction::Mean, &g0())
        });
        case(cases, format!("torch::binary_cross_entropy_with_logits_grad with pos_weight {ws:?}"), move || {
            xent::torch::binary_cross_entropy_with_logits_grad(&x(), &x(), None, Some(&a(ws).view()), Reduction::Mean, &g0())
        });
        let lce = move |args: &LinearCrossEntropyArgs<'_, f64>| {
            xent::torch::linear_cross_entropy_grad(
                &x().view(),
                &a(&[4, 3]).view(),
                Target::Indices(y().view()),
                args,
                &g0().view(),
                LinearWants::ALL,
            )
        };
        case(cases, format!("torch::linear_cross_entropy_grad with weight {ws:?}"), move || {
            let w = a(ws);
            lce(&LinearCrossEntropyArgs { weight: Some(w.view()), ..Default::default() })
        });
        case(cases, format!("torch::linear_cross_entropy_grad with bias {ws:?}"), move || {
            let b = a(ws);
            lce(&LinearCrossEntropyArgs { linear_bias: Some(b.view()), ..Default::default() })
        });
        for r in [xent::keras::KerasReduction::None, xent::keras::KerasReduction::SumOverBatchSize] {
            let gk = move || if r == xent::keras::KerasReduction::None { g2() } else { g0() };
            case(cases, format!("keras::CategoricalCrossentropy::grad({r:?}) with sample_weight {ws:?}"), move || {
                let l = xent::keras::CategoricalCrossentropy { reduction: r, ..Default::default() };
                l.grad(&x().view(), &x().view(), Some(&a(ws).view()), &gk().view())
            });
            case(cases, format!("keras::SparseCategoricalCrossentropy::grad({r:?}) with sample_weight {ws:?}"), move || {
                let l = xent::keras::SparseCategoricalCrossentropy { reduction: r, ..Default::default() };
                l.grad(&y().view(), &x().view(), Some(&a(ws).view()), &gk().view())
            });
            case(cases, format!("keras::BinaryCrossentropy::grad({r:?}) with sample_weight {ws:?}"), move || {
                let l = xent::keras::BinaryCrossentropy { reduction: r, ..Default::default() };
                l.grad(&x().view(), &x().view(), Some(&a(ws).view()), &gk().view())
            });
            case(cases, format!("keras::KLDivergence::grad({r:?}) with sample_weight {ws:?}"), move || {
                let l = xent::keras::KLDivergence { reduction: r };
                l.grad(&x().view(), &x().view(), Some(&a(ws).view()), &gk().view())
            });
        }
    }
    // The fused steps write the gradient into a caller buffer.
    for bs in [&[2, 4][..], &[3, 2][..], &[6][..]] {
        case(cases, format!("torch::cross_entropy_with_grad with grad buffer {bs:?}"), move || {
            let mut buf = a(bs);
            xent::torch::cross_entropy_with_grad(&x(), &y(), &CrossEntropyArgs::default(), 1.0, &mut buf)
        });
        case(cases, format!("torch::cross_entropy_probs_with_grad with grad buffer {bs:?}"), move || {
            let mut buf = a(bs);
            xent::torch::cross_entropy_probs_with_grad(&x(), &x(), &CrossEntropyArgs::default(), 1.0, &mut buf)
        });
        case(cases, format!("torch::binary_cross_entropy_with_logits_with_grad with grad buffer {bs:?}"), move || {
            let mut buf = a(bs);
            xent::torch::binary_cross_entropy_with_logits_with_grad(&x(), &x(), None, None, Reduction::Mean, 1.0, &mut buf)
        });
    }
}

/// The core ops take per-class weights, biases and targets as slices: a slice of the
/// wrong length (logits `[2, 3]`, projection `[4, 3]`, so `C` is 3 or 4 and `N` is 2).
fn core_slice_cases(cases: &mut Vec<Case>) {
    let seq = Par::Seq;
    let x = || a(&[2, 3]);
    let y = || labels(&[2]);
    let g0 = || a(&[]);
    for n in [0usize, 2, 5] {
        case(cases, format!("ops::cross_entropy_dense_vjp with weight of length {n}"), move || {
            let w = vec![1.0; n];
            ops::cross_entropy_dense_vjp(&x().view(), &x().view(), 1, Some(&w), 0.0, Reduction::Mean, DenseGrad::Exact, &g0().view(), seq)
        });
        case(cases, format!("ops::cross_entropy_sparse_vjp with weight of length {n}"), move || {
            let w = vec![1.0; n];
            let o = SparseOptions { weight: Some(&w), ..Default::default() };
            ops::cross_entropy_sparse_vjp(&x().view(), 1, &y().view(), &o, &g0().view(), seq)
        });
        case(cases, format!("ops::nll_loss_vjp with weight of length {n}"), move || {
            let w = vec![1.0; n];
            let o = SparseOptions { weight: Some(&w), ..Default::default() };
            ops::nll_loss_vjp(&x().view(), 1, &y().view(), &o, &g0().view())
        });
        case(cases, format!("ops::cross_entropy_sparse_fused with weight of length {n}"), move || {
            let w = vec![1.0; n];
            let o = SparseOptions { weight: Some(&w), ..Default::default() };
            let mut buf = x();
            ops::cross_entropy_sparse_fused(&x().view(), 1, &y().view(), &o, 1.0, &mut buf.view_mut(), seq)
        });
        case(cases, format!("ops::cross_entropy_sharded_vjp with weight of length {n}"), move || {
            let w = vec![1.0; n];
            let o = SparseOptions { weight: Some(&w), ..Default::default() };
            ops::cross_entropy_sharded_vjp(&Solo, &a2(2, 3).view(), &[0, 1], &o, &g0().view(), seq)
        });
        for (what, wl, bl) in [("weight", Some(n), None), ("bias", None, Some(n))] {
            let lin = move |o: &mut LinearCeOptions<'_, f64>, w: &'static [f64]| {
                if wl.is_some() {
                    o.weight = Some(w);
                }
                if bl.is_some() {
                    o.bias = Some(w);
                }
            };
            let w: &'static [f64] = Vec::leak(vec![1.0; n]);
            case(cases, format!("ops::linear_cross_entropy_vjp with {what} of length {n}"), move || {
                let mut o = LinearCeOptions::default();
                lin(&mut o, w);
                ops::linear_cross_entropy_vjp(
                    &a2(2, 3).view(),
                    &a2(4, 3).view(),
                    &LinearTarget::Indices(&[0, 1]),
                    &o,
                    &g0().view(),
                    LinearWants::ALL,
                    seq,
                )
            });
            case(cases, format!("ops::linear_cross_entropy_sharded_vjp with {what} of length {n}"), move || {
                let mut o = LinearCeOptions::default();
                lin(&mut o, w);
                ops::linear_cross_entropy_sharded_vjp(
                    &Solo,
                    &a2(2, 3).view(),
                    &a2(4, 3).view(),
                    &[0, 1],
                    &o,
                    &g0().view(),
                    LinearWants::ALL,
                    InputGrad::AllReduce,
                    seq,
                )
            });
            let wf: &'static [f32] = Vec::leak(vec![1.0f32; n]);
            case(cases, format!("ops::linear_cross_entropy_half_vjp with {what} of length {n}"), move || {
                let mut o = LinearCeOptions::<f32>::default();
                if wl.is_some() {
                    o.weight = Some(wf);
                }
                if bl.is_some() {
                    o.bias = Some(wf);
                }
                let (i, w) = (Array2::from_elem((2, 3), f16::from_f32(0.3)), Array2::from_elem((4, 3), f16::from_f32(0.3)));
                ops::linear_cross_entropy_half_vjp(
                    &i.view(),
                    &w.view(),
                    &[0, 1],
                    &o,
                    &a(&[]).mapv(|v| v as f32).view(),
                    LinearWants::ALL,
                    seq,
                )
            });
        }
    }
    for n in [0usize, 1, 3] {
        let t: &'static [i64] = Vec::leak(vec![0; n]);
        case(cases, format!("ops::linear_cross_entropy_vjp with {n} index targets"), move || {
            let o = LinearCeOptions::default();
            ops::linear_cross_entropy_vjp(
                &a2(2, 3).view(),
                &a2(4, 3).view(),
                &LinearTarget::Indices(t),
                &o,
                &g0().view(),
                LinearWants::ALL,
                seq,
            )
        });
        let p: &'static [f64] = Vec::leak(vec![0.25; n * 4 + 1]);
        case(cases, format!("ops::linear_cross_entropy_vjp with {} probability targets", p.len()), move || {
            let o = LinearCeOptions::default();
            ops::linear_cross_entropy_vjp(
                &a2(2, 3).view(),
                &a2(4, 3).view(),
                &LinearTarget::Probs(p),
                &o,
                &g0().view(),
                LinearWants::ALL,
                seq,
            )
        });
        case(cases, format!("ops::linear_cross_entropy_half_vjp with {n} targets"), move || {
            let (i, w) = (Array2::from_elem((2, 3), f16::from_f32(0.3)), Array2::from_elem((4, 3), f16::from_f32(0.3)));
            ops::linear_cross_entropy_half_vjp(
                &i.view(),
                &w.view(),
                t,
                &LinearCeOptions::default(),
                &a(&[]).mapv(|v| v as f32).view(),
                LinearWants::ALL,
                seq,
            )
        });
        case(cases, format!("ops::cross_entropy_sharded_vjp with {n} targets"), move || {
            ops::cross_entropy_sharded_vjp(&Solo, &a2(2, 3).view(), t, &SparseOptions::default(), &g0().view(), seq)
        });
        case(cases, format!("ops::linear_cross_entropy_sharded_vjp with {n} targets"), move || {
            let o = LinearCeOptions::default();
            ops::linear_cross_entropy_sharded_vjp(
                &Solo,
                &a2(2, 3).view(),
                &a2(4, 3).view(),
                t,
                &o,
                &g0().view(),
                LinearWants::ALL,
                InputGrad::AllReduce,
                seq,
            )
        });
        case(cases, format!("ops::cross_entropy_sparse_fused_in_place with {n} labels"), move || {
            let mut buf = x();
            ops::cross_entropy_sparse_fused_in_place(&mut buf.view_mut(), 1, &labels(&[n]).view(), &SparseOptions::default(), 1.0, seq)
        });
        case(cases, format!("torch::cross_entropy_with_grad_in_place with {n} labels"), move || {
            let mut buf = x();
            xent::torch::cross_entropy_with_grad_in_place(&mut buf, &labels(&[n]), &CrossEntropyArgs::default(), 1.0)
        });
    }
    // Element-wise weights and targets of the binary losses and the KL divergence.
    for ws in [&[2][..], &[2, 4][..], &[3, 3][..]] {
        case(cases, format!("ops::binary_cross_entropy_vjp with weight {ws:?}"), move || {
            ops::binary_cross_entropy_vjp(&x().view(), &x().view(), Some(&a(ws).view()), Reduction::Mean, &g0().view())
        });
        case(cases, format!("ops::binary_cross_entropy_vjp with target {ws:?}"), move || {
            ops::binary_cross_entropy_vjp(&x().view(), &a(ws).view(), None, Reduction::Mean, &g0().view())
        });
        case(cases, format!("ops::binary_cross_entropy_with_logits_vjp with pos_weight {ws:?}"), move || {
            ops::binary_cross_entropy_with_logits_vjp(&x().view(), &x().view(), None, Some(&a(ws).view()), Reduction::Mean, &g0().view())
        });
        case(cases, format!("ops::kl_div_vjp with target {ws:?}"), move || {
            ops::kl_div_vjp(&x().view(), &a(ws).view(), false, KlReduction::Mean, &g0().view())
        });
        case(cases, format!("ops::cross_entropy_dense_vjp with targets {ws:?}"), move || {
            ops::cross_entropy_dense_vjp(&x().view(), &a(ws).view(), 1, None, 0.0, Reduction::Mean, DenseGrad::Exact, &g0().view(), seq)
        });
        case(cases, format!("ops::categorical_crossentropy_probs_vjp with y_true {ws:?}"), move || {
            ops::categorical_crossentropy_probs_vjp(&a(ws).view(), &x().view(), 1, 1e-7, &a(&[2]).view())
        });
        case(cases, format!("ops::binary_focal_vjp with y_true {ws:?}"), move || {
            ops::binary_focal_vjp(&a(ws).view(), &x().view(), None, true, 0.25, 2.0, 1e-7, &x().view())
        });
        case(cases, format!("ops::binary_focal_vjp with logits {ws:?}"), move || {
            ops::binary_focal_vjp(&x().view(), &x().view(), Some(&a(ws).view()), true, 0.25, 2.0, 1e-7, &x().view())
        });
        case(cases, format!("ops::kl_divergence_vjp with y_true {ws:?}"), move || {
            ops::kl_divergence_vjp(&a(ws).view(), &x().view(), 1e-7, &a(&[2]).view())
        });
        case(cases, format!("ops::sigmoid_cross_entropy_vjp with labels {ws:?}"), move || {
            ops::sigmoid_cross_entropy_vjp(&a(ws).view(), &x().view(), &x().view())
        });
        case(cases, format!("keras::categorical_crossentropy_grad with y_true {ws:?}"), move || {
            xent::keras::categorical_crossentropy_grad(&a(ws).view(), &x().view(), true, 0.0, -1, &a(&[2]).view())
        });
        case(cases, format!("keras::binary_crossentropy_grad with y_true {ws:?}"), move || {
            xent::keras::binary_crossentropy_grad(&a(ws).view(), &x().view(), true, 0.0, -1, &a(&[2]).view())
        });
        case(cases, format!("keras::binary_focal_crossentropy_grad with y_true {ws:?}"), move || {
            xent::keras::binary_focal_crossentropy_grad(&a(ws).view(), &x().view(), true, 0.25, 2.0, false, 0.0, -1, &a(&[2]).view())
        });
        case(cases, format!("keras::categorical_focal_crossentropy_grad with y_true {ws:?}"), move || {
            xent::keras::categorical_focal_crossentropy_grad(&a(ws).view(), &x().view(), 0.25, 2.0, false, 0.0, -1, &a(&[2]).view())
        });
    }
}

/// The slice-level VJPs and forwards of `xent::ops::masked` (JAX's graphs): `x` of the geometry's
/// length (2 × 3 × 1), a mask of `x`'s length, `gy` of `x`'s length (one per lane for
/// log-sum-exp).
fn masked_cases(cases: &mut Vec<Case>) {
    use xent::kernels::Geom;
    use xent::ops::masked;
    type Vjp = fn(&[f64], Option<&[bool]>, &[f64], Geom) -> Result<Vec<f64>, Error>;
    let vjps: [(&str, Vjp, usize); 3] = [
        ("jax_softmax_vjp", masked::jax_softmax_vjp, 6),
        ("jax_log_softmax_vjp", masked::jax_log_softmax_vjp, 6),
        ("jax_logsumexp_vjp", masked::jax_logsumexp_vjp, 2),
    ];
    let g = Geom { outer: 2, classes: 3, inner: 1 };
    for (name, f, gy_len) in vjps {
        for n in [0usize, 1, 5, 7] {
            case(cases, format!("ops::masked::{name} with x of length {n}"), move || f(&vec![0.3; n], None, &vec![1.0; gy_len], g));
            case(cases, format!("ops::masked::{name} with where of length {n}"), move || {
                f(&[0.3; 6], Some(&vec![true; n]), &vec![1.0; gy_len], g)
            });
            if n != gy_len {
                case(cases, format!("ops::masked::{name} with gy of length {n}"), move || f(&[0.3; 6], None, &vec![1.0; n], g));
            }
        }
        case(cases, format!("ops::masked::{name} with a geometry of overflowing length"), move || {
            f(&[0.3; 6], None, &vec![1.0; gy_len], Geom { outer: usize::MAX, classes: 3, inner: 1 })
        });
    }
    // no classes (so no elements) but more lanes than a usize holds
    case(cases, "ops::masked::jax_logsumexp_vjp with overflowing lanes".to_string(), move || {
        masked::jax_logsumexp_vjp(&[], None, &[1.0], Geom { outer: usize::MAX, classes: 0, inner: 2 })
    });
    // the forwards index the same slices
    type Fwd = fn(&[f64], Option<&[bool]>, Geom) -> Result<Vec<f64>, Error>;
    let fwds: [(&str, Fwd); 3] =
        [("jax_softmax", masked::jax_softmax), ("jax_log_softmax", masked::jax_log_softmax), ("jax_logsumexp", masked::jax_logsumexp)];
    for (name, f) in fwds {
        for n in [0usize, 1, 5, 7] {
            case(cases, format!("ops::masked::{name} with x of length {n}"), move || f(&vec![0.3; n], None, g));
            case(cases, format!("ops::masked::{name} with where of length {n}"), move || f(&[0.3; 6], Some(&vec![true; n]), g));
        }
    }
}

#[test]
fn wrong_shapes_in_gradients_are_errors_not_panics() {
    let mut cases = Vec::new();
    upstream_cases(&mut cases);
    other_input_cases(&mut cases);
    core_slice_cases(&mut cases);
    masked_cases(&mut cases);
    assert!(cases.len() > 300, "the table lost its cases ({})", cases.len());
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {})); // the report below names each panic
    let mut panics = Vec::new();
    let mut accepted = Vec::new();
    let mut unclear = Vec::new();
    for (name, f) in &cases {
        match catch_unwind(AssertUnwindSafe(f)) {
            Err(p) => {
                let msg =
                    p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
                panics.push(format!("{name}: panicked: {msg}"));
            }
            Ok(Ok(())) => accepted.push(name.clone()),
            Ok(Err(e)) => {
                if !matches!(e, Error::Shape { .. }) || !e.to_string().contains(|c: char| c.is_ascii_digit()) {
                    unclear.push(format!("{name}: {e:?}"));
                }
            }
        }
    }
    std::panic::set_hook(hook);
    eprintln!("{} cases", cases.len());
    assert!(
        panics.is_empty() && accepted.is_empty() && unclear.is_empty(),
        "of {} cases, {} panicked:\n{}\n{} accepted a wrong shape:\n{}\n{} returned an error that is not a Shape error naming the sizes:\n{}",
        cases.len(),
        panics.len(),
        panics.join("\n"),
        accepted.len(),
        accepted.join("\n"),
        unclear.len(),
        unclear.join("\n")
    );
}

/// An input of `shape` for `kind`: floats 0.3 (a valid logit and probability), class
/// 0 for labels (`true` for a bool mask).
fn registry_input(kind: xent::registry::InputKind, shape: &[usize]) -> xent::DynArray {
    use xent::registry::InputKind;
    use xent::{DType, DynArray};
    let sh = IxDyn(shape);
    match kind {
        InputKind::Float => DynArray::F64(ArrayD::from_elem(sh, 0.3)),
        InputKind::Labels(ok) if ok.first() == Some(&DType::Bool) => DynArray::Bool(ArrayD::from_elem(sh, true)),
        InputKind::Labels(ok) if ok.first() == Some(&DType::I32) => DynArray::I32(ArrayD::zeros(sh)),
        InputKind::Labels(ok) if ok.first() == Some(&DType::U8) => DynArray::U8(ArrayD::zeros(sh)),
        InputKind::Labels(_) | InputKind::Any => DynArray::I64(ArrayD::zeros(sh)),
    }
}

/// Through the op table (`xent::registry::eval` with `grad`, what `xent eval --grad` and
/// Python's `xent.grad` call): for every op with a gradient and every input, an input
/// of a shape that fits no other ([7] or [5, 7] beside logits [2, 3] and labels [2])
/// gives an `Err` for every gradient the op has, never a panic. The upstream is built
/// by the table itself (always of the output's shape), so it is tested above.
#[test]
fn wrong_input_shapes_through_the_op_table_are_errors_not_panics() {
    use xent::registry::{self, InputKind, OPS};
    let base = |k: InputKind| -> Vec<usize> {
        match k {
            InputKind::Float => vec![2, 3],
            _ => vec![2],
        }
    };
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let (mut panics, mut accepted, mut baseline_ok, mut n) = (Vec::new(), Vec::new(), 0, 0);
    // An op of one input has no other input whose shape could disagree.
    let with_grad: Vec<_> = OPS.iter().filter(|o| !o.grad_wrt.is_empty() && o.inputs.len() > 1).collect();
    for op in &with_grad {
        let required: Vec<(String, xent::DynArray)> =
            op.inputs.iter().filter(|s| !s.optional).map(|s| (s.name.to_string(), registry_input(s.kind, &base(s.kind)))).collect();
        let wrt = op.grad_wrt[0];
        let run = |inputs: Vec<(String, xent::DynArray)>, g: &str| {
            catch_unwind(AssertUnwindSafe(|| registry::eval(op.name, inputs, vec![], Some(g))))
        };
        if matches!(run(required.clone(), wrt), Ok(Ok(_))) {
            baseline_ok += 1;
        }
        for s in op.inputs {
            for bad in [&[7][..], &[5, 7][..]] {
                let mut inputs: Vec<_> = required.iter().filter(|(k, _)| k != s.name).cloned().collect();
                if inputs.is_empty() {
                    // The only required input: its shape must disagree with the optional ones.
                    inputs = op
                        .inputs
                        .iter()
                        .filter(|o| o.name != s.name)
                        .map(|o| (o.name.to_string(), registry_input(o.kind, &base(o.kind))))
                        .collect();
                }
                inputs.push((s.name.to_string(), registry_input(s.kind, bad)));
                for g in op.grad_wrt {
                    n += 1;
                    let what = format!("{} --grad {g} with `{}` of shape {bad:?}", op.name, s.name);
                    match run(inputs.clone(), g) {
                        Err(p) => {
                            let msg = p
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_default();
                            panics.push(format!("{what}: panicked: {msg}"));
                        }
                        Ok(Ok(_)) => accepted.push(what),
                        Ok(Err(_)) => {}
                    }
                }
            }
        }
    }
    std::panic::set_hook(hook);
    assert!(
        panics.is_empty() && accepted.is_empty(),
        "of {n} cases, {} panicked:\n{}\n{} accepted a wrong shape:\n{}",
        panics.len(),
        panics.join("\n"),
        accepted.len(),
        accepted.join("\n")
    );
    // The table is not vacuous: most ops run on the base shapes, so the errors above
    // come from the one wrong input.
    assert!(baseline_ok * 10 >= with_grad.len() * 7, "only {baseline_ok} of {} ops run on the base shapes", with_grad.len());
    eprintln!("{n} cases over {} ops, {baseline_ok} of which run on the base shapes", with_grad.len());
}

//! The one-pass loss-and-gradient API (`torch::*_with_grad`, `ops::*_fused`) against
//! the two-call front-end (`torch::cross_entropy` then `torch::cross_entropy_grad`,
//! itself checked against PyTorch by the golden tests and against finite differences
//! by tests/gradients.rs), on random inputs of several shapes, label types, options
//! and layouts; and its errors.

use ndarray::{arr0, Array, Array1, Array2, Array3, ArrayD, Axis, IxDyn};
use xent::ops::Reduction;
use xent::rng::SplitMix64;
use xent::torch::{self, CrossEntropyArgs, Target};

fn randn(r: &mut SplitMix64, shape: &[usize]) -> ArrayD<f64> {
    Array::from_shape_fn(IxDyn(shape), |_| 3.0 * r.normal())
}

/// |a − b| ≤ 8·n·ε·max(1, |b|) element-wise (n = classes).
fn assert_close(a: &ArrayD<f64>, b: &ArrayD<f64>, n: usize, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    let tol = 8.0 * n as f64 * f64::EPSILON;
    for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
        assert!((x - y).abs() <= tol * y.abs().max(1.0), "{what}: element {i}: {x} vs {y}");
    }
}

#[test]
fn fused_cross_entropy_matches_the_two_call_front_end() {
    let mut r = SplitMix64::new(11);
    for (shape, weighted, ls, red, ignore) in [
        (vec![7, 5], false, 0.0, Reduction::Mean, false),
        (vec![7, 5], true, 0.1, Reduction::Sum, true),
        (vec![3, 4, 2, 3], true, 0.25, Reduction::Mean, true),
        (vec![6], false, 0.0, Reduction::Sum, false),
        (vec![40, 19], false, 0.05, Reduction::Mean, false),
    ] {
        let x = randn(&mut r, &shape);
        let cd = if shape.len() == 1 { 0 } else { 1 };
        let c = shape[cd];
        let mut yshape = shape.clone();
        yshape.remove(cd);
        let mut y: ArrayD<i64> = Array::from_shape_fn(IxDyn(&yshape), |_| r.index(c) as i64);
        if ignore {
            y.iter_mut().step_by(3).for_each(|v| *v = -100);
        }
        let w: Array1<f64> = Array1::from_shape_fn(c, |_| r.uniform(0.5, 2.0));
        let args =
            CrossEntropyArgs { weight: weighted.then(|| w.view().into_dyn()), label_smoothing: ls, reduction: red, ..Default::default() };
        let up = 2.5;
        let want_l = torch::cross_entropy(&x.view(), Target::Indices(y.view()), &args).unwrap()[[]];
        let want_g = torch::cross_entropy_grad(&x.view(), Target::Indices(y.view()), &args, &arr0(up).into_dyn().view()).unwrap();
        let what = format!("{shape:?} w={weighted} ls={ls} {red:?}");

        // into a buffer, i32 labels
        let y32 = y.mapv(|v| v as i32);
        let mut g = ArrayD::zeros(x.raw_dim());
        let l = torch::cross_entropy_with_grad(&x, &y32, &args, up, &mut g).unwrap();
        assert!((l - want_l).abs() <= 1e-12 * want_l.abs().max(1.0), "{what}: loss {l} vs {want_l}");
        assert_close(&g, &want_g, c, &what);

        // in place
        let mut xi = x.clone();
        let l2 = torch::cross_entropy_with_grad_in_place(&mut xi, &y, &args, up).unwrap();
        assert_eq!(l2.to_bits(), l.to_bits(), "{what}: in-place loss");
        assert_close(&xi, &want_g, c, &format!("{what} in place"));

        // a transposed (strided) gradient buffer and logits, where the shape allows
        if shape.len() == 2 && !ignore {
            let xt = x.t().to_owned(); // (C, N) standard layout
            let mut gt = ArrayD::zeros(IxDyn(&[shape[1], shape[0]]));
            let l3 = torch::cross_entropy_with_grad(xt.t(), &y, &args, up, &mut gt.view_mut().reversed_axes()).unwrap();
            assert!((l3 - want_l).abs() <= 1e-12 * want_l.abs().max(1.0));
            assert_close(&gt.t().to_owned(), &want_g, c, &format!("{what} strided"));
        }
    }
}

#[test]
fn any_dimensionality_and_label_type() {
    let x = Array2::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f32 * 0.25);
    let mut g = Array2::<f32>::zeros((4, 3));
    let want = torch::cross_entropy_with_grad(&x, &[0i64, 1, 2, 0], &CrossEntropyArgs::default(), 1.0, &mut g).unwrap();
    let mut g2 = Array2::<f32>::zeros((4, 3));
    for l in [
        torch::cross_entropy_with_grad(&x, &[0u8, 1, 2, 0], &CrossEntropyArgs::default(), 1.0, &mut g2).unwrap(),
        torch::cross_entropy_with_grad(&x, &[0u16, 1, 2, 0], &CrossEntropyArgs::default(), 1.0, &mut g2).unwrap(),
        torch::cross_entropy_with_grad(&x, &[0u32, 1, 2, 0], &CrossEntropyArgs::default(), 1.0, &mut g2).unwrap(),
        torch::cross_entropy_with_grad(x.view(), &vec![0usize, 1, 2, 0], &CrossEntropyArgs::default(), 1.0, &mut g2).unwrap(),
    ] {
        assert_eq!(l, want);
        assert_eq!(g2, g);
    }
    // rank 3 (N, C, d) with Array3 and 2-D labels
    let x3 = Array3::from_shape_fn((2, 3, 2), |(a, b, c)| (a + 2 * b + c) as f64 * 0.3);
    let y3 = ndarray::array![[0u8, 2], [1, 1]];
    let mut g3 = Array3::zeros((2, 3, 2));
    let l = torch::cross_entropy_with_grad(&x3, &y3, &CrossEntropyArgs::default(), 1.0, &mut g3).unwrap();
    let want =
        torch::cross_entropy(&x3.view().into_dyn(), Target::Indices(y3.mapv(i64::from).into_dyn().view()), &CrossEntropyArgs::default())
            .unwrap();
    assert!((l - want[[]]).abs() < 1e-15);
    // every gradient row over the class axis sums to 0
    for s in g3.sum_axis(Axis(1)).iter() {
        assert!(s.abs() < 1e-15);
    }
}

#[test]
fn probability_targets_and_bce_match_the_two_call_front_end() {
    let mut r = SplitMix64::new(5);
    let x = randn(&mut r, &[5, 4]);
    let t = randn(&mut r, &[5, 4]).mapv(f64::exp);
    let t = &t / &t.sum_axis(Axis(1)).insert_axis(Axis(1));
    let args = CrossEntropyArgs { label_smoothing: 0.2, ..Default::default() };
    let mut g = ArrayD::zeros(x.raw_dim());
    let l = torch::cross_entropy_probs_with_grad(&x, &t, &args, 3.0, &mut g).unwrap();
    let up = arr0(3.0).into_dyn();
    assert_eq!(l, torch::cross_entropy(&x.view(), Target::Probs(t.view()), &args).unwrap()[[]]);
    assert_eq!(g, torch::cross_entropy_grad(&x.view(), Target::Probs(t.view()), &args, &up.view()).unwrap());

    let y = t.mapv(|v| (v > 0.25) as u8 as f64);
    let pw = Array1::from(vec![1.0, 2.0, 3.0, 0.5]).into_dyn();
    let l = torch::binary_cross_entropy_with_logits_with_grad(&x, &y, None, Some(&pw.view()), Reduction::Sum, 3.0, &mut g).unwrap();
    assert_eq!(l, torch::binary_cross_entropy_with_logits(&x.view(), &y.view(), None, Some(&pw.view()), Reduction::Sum).unwrap()[[]]);
    let want =
        torch::binary_cross_entropy_with_logits_grad(&x.view(), &y.view(), None, Some(&pw.view()), Reduction::Sum, &up.view()).unwrap();
    assert_eq!(g, want);
}

#[test]
fn bad_labels_shapes_and_options_are_errors_not_panics() {
    let x = Array2::<f32>::zeros((2, 3));
    let mut g = Array2::<f32>::zeros((2, 3));
    let d = CrossEntropyArgs::default();
    let e = torch::cross_entropy_with_grad(&x, &[0u32, 3], &d, 1.0, &mut g).unwrap_err();
    assert!(matches!(e, xent::Error::Label { value: 3, index: 1, .. }), "{e}");
    let e = torch::cross_entropy_with_grad(&x, &[0u64, u64::MAX], &d, 1.0, &mut g).unwrap_err();
    assert!(matches!(e, xent::Error::Label { .. }), "{e}");
    let e = torch::cross_entropy_with_grad(&x, &[-1i8, 0], &d, 1.0, &mut g).unwrap_err();
    assert!(matches!(e, xent::Error::Label { value: -1, .. }), "{e}");
    assert!(torch::cross_entropy_with_grad(&x, &[0u8, 1, 2], &d, 1.0, &mut g).is_err());
    let mut small = Array2::<f32>::zeros((2, 2));
    assert!(torch::cross_entropy_with_grad(&x, &[0u8, 1], &d, 1.0, &mut small).is_err());
    let none = CrossEntropyArgs { reduction: Reduction::None, ..Default::default() };
    assert!(matches!(torch::cross_entropy_with_grad(&x, &[0u8, 1], &none, 1.0, &mut g), Err(xent::Error::Param { .. })));
    let w = Array1::<f32>::ones(2).into_dyn();
    let bad_w = CrossEntropyArgs { weight: Some(w.view()), ..Default::default() };
    assert!(torch::cross_entropy_with_grad(&x, &[0u8, 1], &bad_w, 1.0, &mut g).is_err());
    let mut x0 = ndarray::arr0(1.0f32);
    assert!(torch::cross_entropy_with_grad_in_place(&mut x0, ndarray::arr0(0u8).view(), &d, 1.0).is_err());
    // nothing was written on error
    assert_eq!(g, Array2::<f32>::zeros((2, 3)));
}

/// f16 and bf16 logits: the loss equals the f32 computation on the rounded logits (to
/// f32 rounding), and the gradient is that f32 gradient rounded once (within one ulp
/// of the 16-bit type, the two f32 computations differing by f32 rounding).
#[test]
fn half_precision_logits_compute_in_f32_and_round_once() {
    fn check<H: xent::ops::FusedLogit<Acc = f32> + Into<f32> + Copy + std::fmt::Debug>(from: fn(f32) -> H, ulp: f32) {
        let mut r = SplitMix64::new(3);
        let shape = [6usize, 37];
        let xh: ArrayD<H> = Array::from_shape_fn(IxDyn(&shape), |_| from((2.0 * r.normal()) as f32));
        let xf: ArrayD<f32> = xh.mapv(|v| v.into());
        let y: Vec<u16> = (0..6).map(|_| r.index(37) as u16).collect();
        let args = CrossEntropyArgs::<f32> { label_smoothing: 0.1, ..Default::default() };
        let mut gf = ArrayD::<f32>::zeros(IxDyn(&shape));
        let lf = torch::cross_entropy_with_grad(&xf, &y, &args, 1.0, &mut gf).unwrap();
        let mut gh = ArrayD::from_elem(IxDyn(&shape), from(0.0));
        let lh = torch::cross_entropy_with_grad(&xh, &y, &args, 1.0, &mut gh).unwrap();
        assert!((lh - lf).abs() <= 1e-5 * lf.abs(), "{lh} vs {lf}");
        for (a, b) in gh.iter().zip(gf.iter()) {
            let a: f32 = (*a).into();
            assert!((a - b).abs() <= ulp * b.abs().max(1e-3), "{a} vs {b}");
        }
        // in place gives the same bits
        let mut xi = xh.clone();
        let li = torch::cross_entropy_with_grad_in_place(&mut xi, &y, &args, 1.0).unwrap();
        assert_eq!(li.to_bits(), lh.to_bits());
        assert_eq!(format!("{xi:?}"), format!("{gh:?}"));
    }
    check(half::f16::from_f32, 2f32.powi(-10));
    check(half::bf16::from_f32, 2f32.powi(-7));
}

//! Property tests of the core ops (proptest): softmax rows sum to 1, shift
//! invariance, cross-entropy ≥ 0, gradient rows of the softmax cross-entropy sum to 0,
//! and agreement with a plain float64 reference.

use ndarray::{Array2, ArrayD, Axis, IxDyn};
use proptest::prelude::*;
use xent::ops::{self, Reduction, SparseOptions};
use xent::Par;

fn matrix() -> impl Strategy<Value = (usize, usize, Vec<f64>)> {
    (1usize..6, 1usize..70).prop_flat_map(|(n, c)| (Just(n), Just(c), prop::collection::vec(-30.0f64..30.0, n * c)))
}

fn par() -> impl Strategy<Value = Par> {
    prop_oneof![Just(Par::Seq), Just(Par::Rayon(2))]
}

/// Scalar float64 reference: log-sum-exp of a row.
fn lse_ref(row: &[f64]) -> f64 {
    let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

proptest! {
    #[test]
    fn softmax_rows_sum_to_one((n, c, data) in matrix(), par in par()) {
        let x = Array2::from_shape_vec((n, c), data).unwrap().into_dyn();
        let xf = x.mapv(|v| v as f32);
        let y = ops::softmax(&x.view(), 1, par);
        let yf = ops::softmax(&xf.view(), 1, par);
        for (r, rf) in y.axis_iter(Axis(0)).zip(yf.axis_iter(Axis(0))) {
            prop_assert!((r.sum() - 1.0).abs() <= c as f64 * f64::EPSILON * 4.0);
            prop_assert!((rf.sum() - 1.0).abs() <= c as f32 * f32::EPSILON * 4.0);
            prop_assert!(r.iter().all(|&p| (0.0..=1.0).contains(&p)));
        }
    }

    #[test]
    fn softmax_and_log_softmax_are_shift_invariant((n, c, data) in matrix(), shift in -50.0f64..50.0) {
        let x = Array2::from_shape_vec((n, c), data).unwrap().into_dyn();
        let xs = x.mapv(|v| v + shift);
        let (a, b) = (ops::softmax(&x.view(), 1, Par::Seq), ops::softmax(&xs.view(), 1, Par::Seq));
        for (p, q) in a.iter().zip(b.iter()) {
            prop_assert!((p - q).abs() <= 1e-12 + 1e-12 * p.abs());
        }
        let (a, b) = (ops::log_softmax(&x.view(), 1, Par::Seq), ops::log_softmax(&xs.view(), 1, Par::Seq));
        for (p, q) in a.iter().zip(b.iter()) {
            prop_assert!((p - q).abs() <= 1e-12 * (1.0 + p.abs() + shift.abs()));
        }
    }

    #[test]
    fn log_softmax_matches_the_f64_reference((n, c, data) in matrix(), axis in 0usize..2) {
        let x = Array2::from_shape_vec((n, c), data).unwrap().into_dyn();
        let y = ops::log_softmax(&x.view(), axis, Par::Seq);
        for (lane, out) in x.lanes(Axis(axis)).into_iter().zip(y.lanes(Axis(axis))) {
            let row: Vec<f64> = lane.to_vec();
            let l = lse_ref(&row);
            for (v, o) in row.iter().zip(out.iter()) {
                prop_assert!((v - l - o).abs() <= 1e-12 * (1.0 + (v - l).abs()));
            }
        }
    }

    #[test]
    fn cross_entropy_is_nonnegative_and_its_gradient_rows_sum_to_zero(
        (n, c, data) in matrix(), seed in 0u64..1000, ls in 0.0f64..1.0, red in 0usize..3,
    ) {
        let x = Array2::from_shape_vec((n, c), data).unwrap().into_dyn();
        let y = ArrayD::from_shape_vec(IxDyn(&[n]), (0..n).map(|i| ((seed as usize + 7 * i) % c) as i64).collect()).unwrap();
        let reduction = [Reduction::None, Reduction::Sum, Reduction::Mean][red];
        let o = SparseOptions { label_smoothing: ls, reduction, ..Default::default() };
        let l = ops::cross_entropy_sparse(&x.view(), 1, &y.view(), &o, Par::Seq).unwrap();
        prop_assert!(l.iter().all(|&v| v >= -1e-12));
        let g = if reduction == Reduction::None { ArrayD::from_elem(IxDyn(&[n]), 1.0) } else { ArrayD::from_elem(IxDyn(&[]), 1.0) };
        let d = ops::cross_entropy_sparse_vjp(&x.view(), 1, &y.view(), &o, &g.view(), Par::Seq).unwrap();
        for row in d.axis_iter(Axis(0)) {
            prop_assert!(row.sum().abs() <= 1e-12 * c as f64);
        }
    }

    #[test]
    fn dense_cross_entropy_equals_sparse_on_one_hot_targets((n, c, data) in matrix(), seed in 0u64..1000) {
        let x = Array2::from_shape_vec((n, c), data).unwrap().into_dyn();
        let y: Vec<i64> = (0..n).map(|i| ((seed as usize + 3 * i) % c) as i64).collect();
        let t = xent::ops::one_hot::<f64>(&ArrayD::from_shape_vec(IxDyn(&[n]), y.clone()).unwrap().view(), c, 1.0, 0.0, 1).unwrap();
        let yv = ArrayD::from_shape_vec(IxDyn(&[n]), y).unwrap();
        let o = SparseOptions { reduction: Reduction::None, ..Default::default() };
        let a = ops::cross_entropy_sparse(&x.view(), 1, &yv.view(), &o, Par::Seq).unwrap();
        let b = ops::cross_entropy_dense(&x.view(), &t.view(), 1, None, 0.0, Reduction::None, Par::Seq).unwrap();
        for (p, q) in a.iter().zip(b.iter()) {
            prop_assert!(*p >= 0.0);
            prop_assert!((p - q).abs() <= 1e-12 * (1.0 + p.abs()));
        }
    }

    #[test]
    fn sequential_and_parallel_agree_on_any_axis(
        dims in prop::collection::vec(1usize..6, 1..4), axis_pick in 0usize..4, seed in 0u64..100,
    ) {
        let n: usize = dims.iter().product();
        let x = ArrayD::from_shape_vec(IxDyn(&dims), (0..n).map(|i| ((i as f64 + seed as f64) * 0.37).sin() * 20.0).collect()).unwrap();
        let axis = axis_pick % dims.len();
        let a = ops::softmax(&x.view(), axis, Par::Seq);
        let b = ops::softmax(&x.view(), axis, Par::Rayon(2));
        prop_assert_eq!(&a, &b);
        // and both equal the per-lane reference
        for (lane, out) in x.lanes(Axis(axis)).into_iter().zip(a.lanes(Axis(axis))) {
            let row: Vec<f64> = lane.to_vec();
            let l = lse_ref(&row);
            for (v, o) in row.iter().zip(out.iter()) {
                prop_assert!(((v - l).exp() - o).abs() <= 1e-14);
            }
        }
    }

    #[test]
    fn sigmoid_family_is_finite_and_consistent(v in prop::collection::vec(-800.0f64..800.0, 1..50)) {
        let x = ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap();
        let s = ops::sigmoid(&x.view());
        let ls = ops::log_sigmoid(&x.view());
        for ((&xv, &sv), &lv) in x.iter().zip(s.iter()).zip(ls.iter()) {
            prop_assert!((0.0..=1.0).contains(&sv));
            prop_assert!(lv <= 0.0 && lv.is_finite());
            if xv.abs() < 30.0 {
                prop_assert!((lv.exp() - sv).abs() <= 1e-15);
            }
        }
    }
}

#[test]
fn special_rows_follow_the_frameworks() {
    let inf = f64::INFINITY;
    let x = ndarray::array![
        [0.0, f64::NEG_INFINITY, 1.0],
        [f64::NEG_INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY],
        [0.0, inf, 1.0],
        [0.0, f64::NAN, 1.0]
    ]
    .into_dyn();
    let y = ops::softmax(&x.view(), 1, Par::Seq);
    assert_eq!(y[[0, 1]], 0.0);
    assert!((y[[0, 0]] + y[[0, 2]] - 1.0).abs() < 1e-15);
    for r in 1..4 {
        assert!(y.index_axis(Axis(0), r).iter().all(|v| v.is_nan()), "row {r} must be NaN");
    }
    let l = ops::log_softmax(&x.view(), 1, Par::Seq);
    assert_eq!(l[[0, 1]], f64::NEG_INFINITY);
    assert!(l[[0, 0]].is_finite());
}

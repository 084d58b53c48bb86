//! `kernels::checked`: every wrong length, bad label, bad weight or geometry that
//! overflows is an `Err`, never a panic; valid buffers give the core ops' values.

use half::f16;
use ndarray::{ArrayD, IxDyn};
use xent::kernels::{checked, DenseGrad, Geom, Par, Scale, SparseCe};
use xent::ops::{self, SparseOptions};
use xent::Error;

const G: Geom = Geom { outer: 2, classes: 3, inner: 1 };

fn x() -> Vec<f64> {
    vec![0.5, -1.0, 2.0, 0.0, 3.0, 1.0]
}

#[test]
fn valid_buffers_give_the_core_ops_values() {
    let xa = ArrayD::from_shape_vec(IxDyn(&[2, 3]), x()).unwrap();
    let mut out = vec![0.0; 6];
    checked::softmax(&x(), G, &mut out, Par::Seq).unwrap();
    assert_eq!(out, ops::softmax(&xa.view(), 1, Par::Seq).into_raw_vec_and_offset().0);
    checked::log_softmax(&x(), G, &mut out, Par::Seq).unwrap();
    assert_eq!(out, ops::log_softmax(&xa.view(), 1, Par::Seq).into_raw_vec_and_offset().0);
    let gy = [1.0, 0.0, 0.5, -1.0, 2.0, 0.25];
    let ga = ArrayD::from_shape_vec(IxDyn(&[2, 3]), gy.to_vec()).unwrap();
    checked::log_softmax_bwd_from_input(&x(), &gy, G, &mut out, Par::Seq).unwrap();
    assert_eq!(out, ops::log_softmax_vjp_from_input(&xa.view(), &ga.view(), 1, Par::Seq).unwrap().into_raw_vec_and_offset().0);
    let y = [2i64, 0];
    let (mut loss, mut lse, mut grad) = (vec![0.0; 2], vec![0.0; 2], vec![0.0; 6]);
    let p = SparseCe::default();
    checked::ce_sparse_fwd_bwd(&x(), G, &y, &p, Scale::Uniform(0.5), &mut loss, &mut lse, &mut grad, Par::Seq).unwrap();
    let ya = ndarray::arr1(&y).into_dyn();
    let o = SparseOptions::default();
    let want = ops::cross_entropy_sparse(&xa.view(), 1, &ya.view(), &o, Par::Seq).unwrap()[[]];
    assert!(((loss[0] + loss[1]) / 2.0 - want).abs() < 1e-15);
    let g = ops::cross_entropy_sparse_vjp(&xa.view(), 1, &ya.view(), &o, &ndarray::arr0(1.0).into_dyn().view(), Par::Seq).unwrap();
    for (a, b) in grad.iter().zip(g.iter()) {
        assert!((a - b).abs() < 1e-15);
    }
}

#[test]
fn wrong_lengths_labels_and_weights_are_errors() {
    let p = SparseCe::default();
    let (mut l2, mut e2, mut g6) = (vec![0.0; 2], vec![0.0; 2], vec![0.0; 6]);
    let short = vec![0.0; 5];
    let shape = |r: xent::Result<()>| assert!(matches!(r, Err(Error::Shape { .. })), "{r:?}");
    shape(checked::softmax(&short, G, &mut g6, Par::Seq));
    shape(checked::log_softmax(&x(), G, &mut g6[..5], Par::Seq));
    shape(checked::logsumexp(&x(), G, &mut [0.0; 3], Par::Seq));
    shape(checked::softmax_bwd(&x(), &short, G, &mut g6, Par::Seq));
    shape(checked::log_softmax_bwd(&x(), &x(), G, &mut g6[..4], Par::Seq));
    shape(checked::log_softmax_bwd_from_input(&x(), &short, G, &mut g6, Par::Seq));
    shape(checked::ce_sparse_fwd(&x(), G, &[0], &p, &mut l2, &mut e2, Par::Seq));
    shape(checked::ce_sparse_fwd(&x(), G, &[0, 1], &p, &mut l2[..1], &mut e2, Par::Seq));
    shape(checked::ce_sparse_bwd(&x(), G, &[0, 1], &p, &e2, Scale::PerPosition(&[1.0]), &mut g6, Par::Seq));
    shape(checked::ce_sparse_fwd_bwd(&x(), G, &[0, 1], &p, Scale::Uniform(1.0), &mut l2, &mut e2, &mut g6[..3], Par::Seq));
    let mut xm = x();
    shape(checked::ce_sparse_fwd_bwd_in_place(&mut xm[..4], G, &[0, 1], &p, Scale::Uniform(1.0), &mut l2, &mut e2, Par::Seq));
    shape(checked::ce_dense_fwd(&x(), &short, G, None, &mut l2, &mut e2, Par::Seq));
    shape(checked::ce_dense_bwd(&x(), &x(), G, Some(&[1.0, 1.0]), DenseGrad::Exact, Scale::Uniform(1.0), &mut g6, Par::Seq));
    let huge = Geom { outer: usize::MAX, classes: 3, inner: 2 };
    shape(checked::softmax(&x(), huge, &mut g6, Par::Seq));
    // a weight with TF's kernel gradient
    assert!(matches!(
        checked::ce_dense_bwd(&x(), &x(), G, Some(&[1.0; 3]), DenseGrad::Kernel, Scale::Uniform(1.0), &mut g6, Par::Seq),
        Err(Error::Param { .. })
    ));
    // labels out of range, negative, or -100 without an ignore index
    for bad in [[0i64, 3], [-1, 0], [-100, 0]] {
        let r = checked::ce_sparse_fwd_bwd(&x(), G, &bad, &p, Scale::Uniform(1.0), &mut l2, &mut e2, &mut g6, Par::Seq);
        assert!(matches!(r, Err(Error::Label { .. })), "{bad:?}: {r:?}");
    }
    let ignoring = SparseCe { ignore_index: Some(-100), ..Default::default() };
    checked::ce_sparse_fwd(&x(), G, &[-100, 0], &ignoring, &mut l2, &mut e2, Par::Seq).unwrap();
    assert_eq!(l2[0], 0.0);
    let weighted = SparseCe { weight: Some(&[1.0, 2.0][..]), ..Default::default() };
    shape(checked::ce_sparse_fwd(&x(), G, &[0, 1], &weighted, &mut l2, &mut e2, Par::Seq));
    // half precision
    let xh: Vec<f16> = x().iter().map(|&v| f16::from_f64(v)).collect();
    let (mut lf, mut ef) = (vec![0.0f32; 2], vec![0.0f32; 2]);
    let pf = SparseCe::<f32>::default();
    assert!(matches!(checked::ce_sparse_fwd_half(&xh, G, &[0, 7], &pf, &mut lf, &mut ef, Par::Seq), Err(Error::Label { .. })));
    let mut gh = vec![f16::ZERO; 5];
    assert!(checked::ce_sparse_fwd_bwd_half(&xh, G, &[0, 1], &pf, Scale::Uniform(1.0), &mut lf, &mut ef, &mut gh, Par::Seq).is_err());
    let mut xh2 = xh.clone();
    assert!(
        checked::ce_sparse_fwd_bwd_half_in_place(&mut xh2, G, &[0, 1, 2], &pf, Scale::Uniform(1.0), &mut lf, &mut ef, Par::Seq).is_err()
    );
}

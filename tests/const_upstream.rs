//! The softmax and log-softmax VJPs with a broadcast upstream (`arr0(c).broadcast(..)`,
//! what `xent eval --grad` passes for the gradient of `sum(output)`) take a path that
//! never copies the upstream and turns the softmax into its gradient in place. They
//! must give the same bits as the general path fed the same upstream as a full array,
//! on every ISA, for every layout (class axis last or not, short and long rows), with
//! NaN, ±inf and −inf rows, and for constants other than 1.

use ndarray::{arr0, ArrayD, IxDyn};
use xent::kernels::{with_isa, Isa};
use xent::Par;

fn data<T: xent::float::Float>(shape: &[usize], seed: u64) -> ArrayD<T> {
    let mut rng = xent::rng::SplitMix64::new(seed);
    let mut x = ArrayD::from_shape_fn(IxDyn(shape), |_| T::of((rng.next_f64() - 0.5) * 20.0));
    let n = x.len();
    let specials = [f64::NEG_INFINITY, f64::INFINITY, f64::NAN, -1e30];
    for (i, v) in specials.iter().enumerate() {
        if let Some(e) = x.iter_mut().nth((i * 7919) % n) {
            *e = T::of(*v);
        }
    }
    // one row of only −inf along the first axis-last row
    if let Some(row) = x.as_slice_mut().map(|s| &mut s[..shape[shape.len() - 1].min(n)]) {
        if shape[0] > 2 {
            row.iter_mut().for_each(|v| *v = T::neg_infinity());
        }
    }
    x
}

fn same_bits<T: xent::float::Float>(a: &ArrayD<T>, b: &ArrayD<T>) -> bool {
    a.shape() == b.shape() && a.iter().zip(b.iter()).all(|(x, y)| x.f64().to_bits() == y.f64().to_bits() || (x.is_nan() && y.is_nan()))
}

fn check<T: xent::float::Float>(shape: &[usize], axis: usize, c: f64, par: Par) {
    let x = data::<T>(shape, shape.iter().product::<usize>() as u64 + axis as u64);
    let one = arr0(T::of(c)).into_dyn();
    let bc = one.broadcast(IxDyn(shape)).unwrap();
    let full = ArrayD::from_elem(IxDyn(shape), T::of(c));
    let (xv, fv) = (x.view(), full.view());
    let ctx = format!("{} shape {shape:?} axis {axis} c {c}", std::any::type_name::<T>());

    let y = xent::ops::softmax(&xv, axis, par);
    let want = xent::ops::softmax_vjp(&y.view(), &fv, axis, par).unwrap();
    assert!(same_bits(&xent::ops::softmax_vjp_from_input(&xv, &bc, axis, par).unwrap(), &want), "softmax {ctx}");
    assert!(same_bits(&xent::ops::softmax_vjp_from_input(&xv, &fv, axis, par).unwrap(), &want), "softmax (full) {ctx}");

    let want = xent::ops::log_softmax_vjp_from_input(&xv, &fv, axis, par).unwrap();
    assert!(same_bits(&xent::ops::log_softmax_vjp_from_input(&xv, &bc, axis, par).unwrap(), &want), "log_softmax {ctx}");

    let ax = axis as i64;
    let want = xent::jax::softmax_grad(&xv, None, ax, &fv).unwrap();
    assert!(same_bits(&xent::jax::softmax_grad(&xv, None, ax, &bc).unwrap(), &want), "jax softmax {ctx}");
    let want = xent::jax::log_softmax_grad(&xv, None, ax, &fv).unwrap();
    assert!(same_bits(&xent::jax::log_softmax_grad(&xv, None, ax, &bc).unwrap(), &want), "jax log_softmax {ctx}");
}

#[test]
fn broadcast_upstream_gives_the_bits_of_the_full_upstream() {
    let cases: &[(&[usize], usize)] =
        &[(&[7, 5], 1), (&[3, 300], 1), (&[4, 1000], 1), (&[2, 40, 3], 1), (&[5, 6, 7], 0), (&[3, 2000], 0), (&[9], 0)];
    for isa in Isa::available() {
        with_isa(isa, || {
            for &(shape, axis) in cases {
                for c in [1.0, 2.5, -0.75] {
                    for par in [Par::Seq, Par::Rayon(2)] {
                        check::<f32>(shape, axis, c, par);
                        check::<f64>(shape, axis, c, par);
                    }
                }
            }
        });
    }
}

#[test]
fn mismatched_upstream_is_a_shape_error() {
    let x = ArrayD::<f32>::zeros(IxDyn(&[2, 3]));
    let one = arr0(1.0f32).into_dyn();
    let g = one.broadcast(IxDyn(&[3, 2])).unwrap();
    for r in [
        xent::ops::softmax_vjp_from_input(&x.view(), &g, 1, Par::Seq),
        xent::ops::log_softmax_vjp_from_input(&x.view(), &g, 1, Par::Seq),
        xent::jax::softmax_grad(&x.view(), None, -1, &g),
        xent::jax::log_softmax_grad(&x.view(), None, -1, &g),
    ] {
        let e = r.unwrap_err();
        assert!(matches!(e, xent::Error::Shape { .. }), "{e}");
        assert!(e.to_string().contains("[3, 2]"), "{e}");
    }
}

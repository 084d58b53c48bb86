//! Matrix products for the fused linear cross-entropy, on the `gemm` crate (0.19:
//! packed, cache-blocked micro-kernels for AVX2/AVX-512, ~105 GFLOP/s per core in
//! f32 here, the speed of OpenBLAS). This is the only place xent calls it; the
//! wrappers check every extent against the slices, so the unsafe call cannot read
//! or write out of bounds.
//!
//! All matrices are row-major slices; `_nt`, `_nn`, `_tn` name which operand is read
//! transposed (through its strides, never copied).

use crate::float::Float;

use super::Par;

/// Below this many multiply-adds a product runs on one thread.
const PAR_MIN_FLOPS: usize = 1 << 21;

fn parallelism(par: Par, m: usize, n: usize, k: usize) -> gemm::Parallelism {
    let work = m.saturating_mul(n).saturating_mul(k);
    match par {
        Par::Seq => gemm::Parallelism::None,
        _ if work < PAR_MIN_FLOPS => gemm::Parallelism::None,
        Par::Rayon(0) => gemm::Parallelism::Rayon(rayon::current_num_threads().max(1)),
        Par::Rayon(t) => gemm::Parallelism::Rayon(t),
    }
}

/// The largest element offset a `rows × cols` matrix with strides `(rs, cs)` touches,
/// plus one (0 for an empty matrix).
fn extent(rows: usize, cols: usize, rs: usize, cs: usize) -> usize {
    if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1) * rs + (cols - 1) * cs + 1
    }
}

/// `c (m×n) = [c +] a·b` with `a` an `m×k` and `b` a `k×n` matrix given by strides
/// `(row stride, column stride)`.
#[allow(clippy::too_many_arguments)] // the three strided operands of a GEMM
fn strided<T: Float>(
    (m, n, k): (usize, usize, usize),
    c: &mut [T],
    (c_rs, c_cs): (usize, usize),
    accumulate: bool,
    a: &[T],
    (a_rs, a_cs): (usize, usize),
    b: &[T],
    (b_rs, b_cs): (usize, usize),
    par: Par,
) {
    assert!(extent(m, n, c_rs, c_cs) <= c.len(), "xent gemm: destination too short");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                for j in 0..n {
                    c[i * c_rs + j * c_cs] = T::zero();
                }
            }
        }
        return;
    }
    assert!(extent(m, k, a_rs, a_cs) <= a.len(), "xent gemm: left operand too short");
    assert!(extent(k, n, b_rs, b_cs) <= b.len(), "xent gemm: right operand too short");
    let to = |s: usize| isize::try_from(s).expect("stride fits isize");
    // SAFETY: the asserts above bound every offset the product reads (`a`, `b`) or
    // writes (`c`) by the slices' lengths; `c` is borrowed mutably, so it aliases
    // neither operand. `gemm` computes `c = alpha·c + beta·a·b`, reading `c` only
    // when `read_dst` is true.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            to(c_cs),
            to(c_rs),
            accumulate,
            a.as_ptr(),
            to(a_cs),
            to(a_rs),
            b.as_ptr(),
            to(b_cs),
            to(b_rs),
            T::one(),
            T::one(),
            false,
            false,
            false,
            parallelism(par, m, n, k),
        );
    }
}

/// `c (m×n) = [c +] a·bᵀ`, `a` is `m×k`, `b` is `n×k` (logits = input · weightᵀ).
///
/// # Panics
/// If a slice is shorter than its extent (a caller bug).
#[allow(clippy::too_many_arguments)] // a GEMM's three extents, three operands, mode and threads
pub fn gemm_nt<T: Float>(m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &mut [T], accumulate: bool, par: Par) {
    strided((m, n, k), c, (n, 1), accumulate, a, (k, 1), b, (1, k), par);
}

/// `c (m×n) = [c +] a·b`, `a` is `m×k`, `b` is `k×n` (d input = d logits · weight).
///
/// # Panics
/// If a slice is shorter than its extent (a caller bug).
#[allow(clippy::too_many_arguments)] // a GEMM's three extents, three operands, mode and threads
pub fn gemm_nn<T: Float>(m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &mut [T], accumulate: bool, par: Par) {
    strided((m, n, k), c, (n, 1), accumulate, a, (k, 1), b, (n, 1), par);
}

/// `c (m×n) = [c +] aᵀ·b`, `a` is `k×m`, `b` is `k×n` (d weight += d logitsᵀ · input).
///
/// # Panics
/// If a slice is shorter than its extent (a caller bug).
#[allow(clippy::too_many_arguments)] // a GEMM's three extents, three operands, mode and threads
pub fn gemm_tn<T: Float>(m: usize, n: usize, k: usize, a: &[T], b: &[T], c: &mut [T], accumulate: bool, par: Par) {
    // `gemm` packs a column-strided left operand slowly (measured 18–35 GFLOP/s against
    // 45–50 with a short inner dimension, k ≈ 130, 2 threads): copy `aᵀ` in panels of
    // rows (≤ 1 MiB each, in cache) and multiply each panel as a plain `nn` product.
    assert!(extent(k, m, m, 1) <= a.len(), "xent gemm: left operand too short");
    if k == 0 || m == 0 {
        return strided((m, n, k), c, (n, 1), accumulate, a, (1, m), b, (n, 1), par);
    }
    let p = (PANEL_ELEMS / k).max(16).min(m);
    let mut panel = vec![T::zero(); p * k];
    let mut i0 = 0;
    while i0 < m {
        let i1 = (i0 + p).min(m);
        let rows = i1 - i0;
        for l in 0..k {
            for (i, &v) in a[l * m + i0..l * m + i1].iter().enumerate() {
                panel[i * k + l] = v;
            }
        }
        strided((rows, n, k), &mut c[i0 * n..i1 * n], (n, 1), accumulate, &panel[..rows * k], (k, 1), b, (n, 1), par);
        i0 = i1;
    }
}

/// Elements of one transposed panel of [`gemm_tn`]'s left operand (1 MiB of f32).
const PANEL_ELEMS: usize = 1 << 18;

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(m: usize, n: usize, k: usize, a: impl Fn(usize, usize) -> f64, b: impl Fn(usize, usize) -> f64) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|l| a(i, l) * b(l, j)).sum();
            }
        }
        c
    }

    #[test]
    fn the_three_products_match_the_naive_ones() {
        let (m, n, k) = (37, 53, 29);
        let a: Vec<f64> = (0..m * k).map(|i| ((i * 7 % 13) as f64 - 6.0) / 3.0).collect();
        let bt: Vec<f64> = (0..n * k).map(|i| ((i * 5 % 11) as f64 - 5.0) / 4.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| ((i * 3 % 17) as f64 - 8.0) / 5.0).collect();
        let at: Vec<f64> = (0..k * m).map(|i| ((i * 11 % 19) as f64 - 9.0) / 7.0).collect();
        // the products sum in another order than the naive loop: equal to rounding
        let assert_eq = |p: Vec<f64>, q: Vec<f64>| assert!(p.iter().zip(&q).all(|(u, v)| (u - v).abs() < 1e-12 * (1.0 + v.abs())));
        for par in [Par::Seq, Par::Rayon(2)] {
            let mut c = vec![1.0; m * n];
            gemm_nt(m, n, k, &a, &bt, &mut c, false, par);
            assert_eq(c.clone(), naive(m, n, k, |i, l| a[i * k + l], |l, j| bt[j * k + l]));
            let mut c = vec![1.0; m * n];
            gemm_nn(m, n, k, &a, &b, &mut c, true, par);
            let want: Vec<f64> = naive(m, n, k, |i, l| a[i * k + l], |l, j| b[l * n + j]).iter().map(|v| v + 1.0).collect();
            assert_eq(c.clone(), want);
            let mut c = vec![0.0; m * n];
            gemm_tn(m, n, k, &at, &b, &mut c, false, par);
            assert_eq(c.clone(), naive(m, n, k, |i, l| at[l * m + i], |l, j| b[l * n + j]));
        }
    }

    /// A long inner dimension: `gemm_tn` in several transposed panels.
    #[test]
    fn gemm_tn_in_panels() {
        let (m, n, k) = (37, 3, 20000);
        let at: Vec<f64> = (0..k * m).map(|i| ((i * 11 % 19) as f64 - 9.0) / 7.0).collect();
        let b: Vec<f64> = (0..k * n).map(|i| ((i * 3 % 17) as f64 - 8.0) / 5.0).collect();
        let mut c = vec![1.0; m * n];
        gemm_tn(m, n, k, &at, &b, &mut c, true, Par::Seq);
        let want = naive(m, n, k, |i, l| at[l * m + i], |l, j| b[l * n + j]);
        assert!(c.iter().zip(&want).all(|(u, v)| (u - 1.0 - v).abs() < 1e-9 * (1.0 + v.abs())));
    }

    #[test]
    fn an_empty_inner_dimension_gives_zeros_or_keeps_c() {
        let mut c = vec![3.0f32; 4];
        gemm_nn(2, 2, 0, &[], &[], &mut c, true, Par::Seq);
        assert_eq!(c, [3.0; 4]);
        gemm_nn(2, 2, 0, &[], &[], &mut c, false, Par::Seq);
        assert_eq!(c, [0.0; 4]);
    }
}

//! Kernels: the only code in xent that knows about SIMD and threads.
//!
//! Every kernel sees a tensor as `(outer, classes, inner)` ([`Geom`]): the class axis
//! in the middle, everything before it folded into `outer`, everything after it into
//! `inner`. With `inner == 1` (class axis last, the common case) each position is a
//! contiguous row of `classes` values and the row kernels run on it directly. With
//! `inner > 1` (PyTorch's classes on axis 1 with spatial dims, Keras `axis=0`) the
//! driver copies tiles of [`TILE`] positions into a small row-major buffer (a
//! blocked transpose that stays in L1), runs the same row kernels, and copies back:
//! no full transpose of the tensor is ever made.
//!
//! Parallelism is an explicit argument ([`Par`]): work is split over groups of
//! rows, never finer than [`GRAIN`] elements, so small problems stay on one thread.
//!
//! Per-position arrays (`labels`, `lse`, `loss`, `scale`) have `outer · inner`
//! elements in `(outer, inner)` order.
//!
//! # Instruction sets
//! The row kernels exist for AVX-512, AVX2+FMA and portable scalar code ([`Isa`]);
//! each call picks one table of them on the calling thread ([`current_isa`]: the best
//! the CPU has, or a [`with_isa`] override, or `XENT_ISA`) and runs it on every
//! worker. `f32`, `f64` (`kernels/table_f64.rs`) and the 16-bit inputs ([`Half`]) have
//! SIMD kernels. SIMD results differ from the scalar reference (`kernels/scalar.rs`) only by
//! rounding (the tests bound it in ulps against `f64`); NaN and infinities behave
//! exactly as the reference: a row holding NaN or `+inf`, or only `−inf`, gives NaN,
//! and a `−inf` entry in a row with a finite max gives softmax 0, log-softmax `−inf`.
//!
//! # Paths
//! * **Rows** (the default): per row, one blocked read for `(max, Σ exp)` (the
//!   online normalizer per 8 KiB block), then the write pass from cache. Rows of at
//!   least [`CACHE_MIN`] classes keep their exps in a per-thread scratch row, so
//!   softmax and the fused cross-entropy compute one exp per element, not two
//!   (a `f32`/`f64` softmax whose output stays in the cache keeps them in the output
//!   row itself and scales them there). Outputs of at least [`nt_min_bytes`] (half
//!   the last-level cache) use non-temporal stores, fenced once per piece of rows
//!   rather than per row.
//! * **Few classes** (`C ≤ 16`, class axis last, SIMD ISAs, `f32` and 16-bit inputs):
//!   one row per SIMD lane, 16 (AVX-512) or 8 (AVX2) rows at a time, no per-row call
//!   or horizontal sum. `f64` rows of few classes take the per-row SIMD kernels.
//! * **Wide rows** (`C ≥` [`WIDE_MIN`] and fewer rows than twice the threads): each
//!   row is cut into chunks on different threads, their `(max, Σ exp)` merged.
//!
//! # Checked entry points
//! The kernel functions themselves are crate-private and panic when slice lengths
//! disagree with the geometry or a label is out of range: that is a bug in the caller
//! (the core ops check shapes and labels and return errors before calling here).
//! Outside the crate they are reached through [`checked`], which checks every length
//! and label first and returns an [`crate::Error`] instead.

pub mod checked;
mod isa;
pub mod scalar;
mod simd;
#[macro_use]
pub(crate) mod table;
mod few;
pub mod gemm;
mod half_precision;
pub(crate) mod linear;
pub(crate) mod shard;
pub(crate) mod table_f64;
#[cfg(test)]
mod tests;
mod wide;

pub(crate) use half_precision::{log_softmax_half, softmax_half};
pub use half_precision::{Half, HalfKernels};
pub use isa::{current_isa, default_isa, with_isa, Isa};
pub use table::RowKernels;
pub use wide::WIDE_MIN;

use std::cell::RefCell;

use crate::float::Float;
use table::{Grad, Wr};

/// How many threads a kernel may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Par {
    /// Run on the calling thread.
    #[default]
    Seq,
    /// Split the work over at most `n` rayon tasks (`0`: one per thread of the
    /// current rayon pool). Problems smaller than [`GRAIN`] elements stay sequential.
    Rayon(usize),
}

impl Par {
    /// `Par::Rayon(0)`: every thread of the current rayon pool.
    ///
    /// ```
    /// assert_eq!(xent::Par::all(), xent::Par::Rayon(0));
    /// ```
    pub fn all() -> Par {
        Par::Rayon(0)
    }

    fn tasks(self) -> usize {
        match self {
            Par::Seq => 1,
            Par::Rayon(0) => rayon::current_num_threads(),
            Par::Rayon(n) => n,
        }
    }
}

/// The fewest elements a parallel task gets: below this a thread costs more than it saves.
pub const GRAIN: usize = 1 << 15;

/// Positions per tile when the class axis is not the last one.
pub const TILE: usize = 16;

/// A tensor seen as `(outer, classes, inner)`, the class axis in the middle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geom {
    /// Product of the dimensions before the class axis.
    pub outer: usize,
    /// Length of the class axis.
    pub classes: usize,
    /// Product of the dimensions after the class axis.
    pub inner: usize,
}

impl Geom {
    /// Contiguous rows: `rows × classes`, class axis last.
    ///
    /// ```
    /// use xent::kernels::Geom;
    /// let g = Geom::rows(4, 10);
    /// assert_eq!((g.positions(), g.len(), g.is_empty()), (4, 40, false));
    /// ```
    pub fn rows(rows: usize, classes: usize) -> Geom {
        Geom { outer: rows, classes, inner: 1 }
    }

    /// Number of positions (`outer · inner`): the length of per-position arrays.
    pub fn positions(&self) -> usize {
        self.outer * self.inner
    }

    /// Number of elements (`outer · classes · inner`).
    pub fn len(&self) -> usize {
        self.outer * self.classes * self.inner
    }

    /// True when the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The upstream gradient scale of a loss: one factor for every position (a reduced
/// loss), or one per position (`reduction='none'`, or class-weighted rows).
#[derive(Debug, Clone, Copy)]
pub enum Scale<'a, T> {
    /// The same factor for every position.
    Uniform(T),
    /// One factor per position.
    PerPosition(&'a [T]),
}

impl<T: Float> Scale<'_, T> {
    #[inline]
    fn at(&self, i: usize) -> T {
        match self {
            Scale::Uniform(s) => *s,
            Scale::PerPosition(v) => v[i],
        }
    }
}

/// Options of the sparse (class-index) cross-entropy kernels, PyTorch's semantics:
/// `loss = (1 − ε)·w[y]·(lse − x_y) + (ε/C)·Σ_c w_c·(lse − x_c)`, and 0 where
/// `y == ignore_index`.
#[derive(Debug, Clone, Copy)]
pub struct SparseCe<'a, T> {
    /// Label smoothing ε in [0, 1].
    pub smoothing: T,
    /// Class weights (length `classes`), or all ones.
    pub weight: Option<&'a [T]>,
    /// Positions whose label equals this contribute nothing.
    pub ignore_index: Option<i64>,
}

impl<T: Float> Default for SparseCe<'_, T> {
    fn default() -> Self {
        SparseCe { smoothing: T::zero(), weight: None, ignore_index: None }
    }
}

/// Which gradient a dense-target cross-entropy returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenseGrad {
    /// TensorFlow's fused kernel: `softmax(x) − t`, whatever `Σ t` is.
    Kernel,
    /// The true derivative: `softmax(x)·Σ_c w_c t_c − w ∘ t`.
    Exact,
}

// ---------------------------------------------------------------------------------
// The row/tile driver.

/// An element the driver moves: a tensor element (`E`) or a per-position value (`P`).
trait Elem: Copy + Default + Send + Sync + 'static {}
impl<T: Copy + Default + Send + Sync + 'static> Elem for T {}

/// One position's data handed to a row closure: tensor rows of `E`, per-position
/// values of `P`.
struct Row<'r, E, P> {
    a: &'r [E],
    b: Option<&'r [E]>,
    out: Option<&'r mut [E]>,
    pin: P,
    label: i64,
    pos: usize,
}

/// All buffers of one kernel call, split together by outer index.
struct Bufs<'a, E, P> {
    g: Geom,
    /// global index of the first position (for `Scale::PerPosition` / debugging)
    pos0: usize,
    a: &'a [E],
    b: Option<&'a [E]>,
    out: Option<&'a mut [E]>,
    pin: Option<&'a [P]>,
    labels: Option<&'a [i64]>,
    pout: Option<&'a mut [P]>,
    pout2: Option<&'a mut [P]>,
}

fn split_opt<T>(s: Option<&[T]>, at: usize) -> (Option<&[T]>, Option<&[T]>) {
    match s {
        Some(s) => {
            let (l, r) = s.split_at(at);
            (Some(l), Some(r))
        }
        None => (None, None),
    }
}

/// Order the non-temporal stores of the piece just written before what follows, the
/// hand-back to the caller's thread: `sfence` on x86-64 (the row kernels under these
/// drivers leave it to here, see `simd::Wr::fence`), nothing elsewhere.
#[inline]
fn fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `sfence` is SSE, part of the x86-64 baseline.
    unsafe {
        std::arch::x86_64::_mm_sfence();
    }
}

fn split_opt_mut<T>(s: Option<&mut [T]>, at: usize) -> (Option<&mut [T]>, Option<&mut [T]>) {
    match s {
        Some(s) => {
            let (l, r) = s.split_at_mut(at);
            (Some(l), Some(r))
        }
        None => (None, None),
    }
}

impl<'a, E: Elem, P: Elem> Bufs<'a, E, P> {
    fn split(self, outer_left: usize) -> (Bufs<'a, E, P>, Bufs<'a, E, P>) {
        let g = self.g;
        let ce = outer_left * g.classes * g.inner;
        let pe = outer_left * g.inner;
        let (a0, a1) = self.a.split_at(ce);
        let (b0, b1) = split_opt(self.b, ce);
        let (o0, o1) = split_opt_mut(self.out, ce);
        let (p0, p1) = split_opt(self.pin, pe);
        let (l0, l1) = split_opt(self.labels, pe);
        let (q0, q1) = split_opt_mut(self.pout, pe);
        let (r0, r1) = split_opt_mut(self.pout2, pe);
        let gl = Geom { outer: outer_left, ..g };
        let gr = Geom { outer: g.outer - outer_left, ..g };
        (
            Bufs { g: gl, pos0: self.pos0, a: a0, b: b0, out: o0, pin: p0, labels: l0, pout: q0, pout2: r0 },
            Bufs { g: gr, pos0: self.pos0 + pe, a: a1, b: b1, out: o1, pin: p1, labels: l1, pout: q1, pout2: r1 },
        )
    }

    /// Split over rayon tasks by outer index (never below [`GRAIN`] elements) and hand
    /// each piece to `leaf`.
    fn run_leaves<F>(self, par_tasks: usize, leaf: &F)
    where
        F: Fn(Bufs<'a, E, P>) + Sync,
    {
        let work = self.g.len().max(self.g.positions());
        if par_tasks > 1 && self.g.outer > 1 && work >= 2 * GRAIN {
            let left = self.g.outer / 2;
            let (l, r) = self.split(left);
            let tl = par_tasks / 2;
            rayon::join(|| l.run_leaves(tl.max(1), leaf), || r.run_leaves((par_tasks - tl).max(1), leaf));
        } else {
            leaf(self);
            fence();
        }
    }

    fn run_seq<F>(self, f: &F)
    where
        F: Fn(Row<'_, E, P>) -> (P, P),
    {
        let Geom { outer, classes: c, inner } = self.g;
        let Bufs { a, b, mut out, pin, labels, mut pout, mut pout2, pos0, .. } = self;
        let mut emit = |p: usize, v: (P, P)| {
            if let Some(q) = pout.as_deref_mut() {
                q[p] = v.0;
            }
            if let Some(q) = pout2.as_deref_mut() {
                q[p] = v.1;
            }
        };
        if inner == 1 {
            for r in 0..outer {
                let span = r * c..(r + 1) * c;
                let v = f(Row {
                    a: &a[span.clone()],
                    b: b.map(|b| &b[span.clone()]),
                    out: out.as_deref_mut().map(|o| &mut o[span.clone()]),
                    pin: pin.map_or(P::default(), |p| p[r]),
                    label: labels.map_or(0, |l| l[r]),
                    pos: pos0 + r,
                });
                emit(r, v);
            }
            return;
        }
        // Blocked path: tiles of TILE positions transposed into row-major buffers.
        let mut ta = vec![E::default(); TILE * c];
        let mut tb = if b.is_some() { vec![E::default(); TILE * c] } else { Vec::new() };
        let mut to = if out.is_some() { vec![E::default(); TILE * c] } else { Vec::new() };
        for o in 0..outer {
            let base = o * c * inner;
            let mut j0 = 0;
            while j0 < inner {
                let w = TILE.min(inner - j0);
                for k in 0..c {
                    let src = base + k * inner + j0;
                    for t in 0..w {
                        ta[t * c + k] = a[src + t];
                    }
                    if let Some(b) = b {
                        for t in 0..w {
                            tb[t * c + k] = b[src + t];
                        }
                    }
                }
                for t in 0..w {
                    let p = o * inner + j0 + t;
                    let span = t * c..(t + 1) * c;
                    let v = f(Row {
                        a: &ta[span.clone()],
                        b: if b.is_some() { Some(&tb[span.clone()]) } else { None },
                        out: if out.is_some() { Some(&mut to[span.clone()]) } else { None },
                        pin: pin.map_or(P::default(), |q| q[p]),
                        label: labels.map_or(0, |l| l[p]),
                        pos: pos0 + p,
                    });
                    emit(p, v);
                }
                if let Some(out) = out.as_deref_mut() {
                    for k in 0..c {
                        let dst = base + k * inner + j0;
                        for t in 0..w {
                            out[dst + t] = to[t * c + k];
                        }
                    }
                }
                j0 += w;
            }
        }
    }
}

fn check(name: &str, got: usize, want: usize) {
    assert_eq!(got, want, "xent kernel: `{name}` has {got} elements, geometry needs {want}");
}

#[allow(clippy::too_many_arguments)] // internal plumbing; public kernels name their buffers
fn drive<E: Elem, P: Elem, F>(
    g: Geom,
    par: Par,
    a: &[E],
    b: Option<&[E]>,
    out: Option<&mut [E]>,
    pin: Option<&[P]>,
    labels: Option<&[i64]>,
    pout: Option<&mut [P]>,
    pout2: Option<&mut [P]>,
    f: F,
) where
    F: Fn(Row<'_, E, P>) -> (P, P) + Sync,
{
    if let Some(b) = b {
        check("second input", b.len(), g.len());
    }
    drive_leaves(g, par, a, b, out, pin, labels, pout, pout2, |bufs| bufs.run_seq(&f));
}

/// Check every buffer against the geometry, then hand contiguous outer ranges to `leaf`.
#[allow(clippy::too_many_arguments)] // internal plumbing; public kernels name their buffers
fn drive_leaves<'a, E: Elem, P: Elem, F>(
    g: Geom,
    par: Par,
    a: &'a [E],
    b: Option<&'a [E]>,
    out: Option<&'a mut [E]>,
    pin: Option<&'a [P]>,
    labels: Option<&'a [i64]>,
    pout: Option<&'a mut [P]>,
    pout2: Option<&'a mut [P]>,
    leaf: F,
) where
    F: Fn(Bufs<'a, E, P>) + Sync,
{
    check("input", a.len(), g.len());
    if let Some(b) = b {
        check("second input", b.len(), g.len());
    }
    if let Some(o) = out.as_deref() {
        check("output", o.len(), g.len());
    }
    for (n, s) in [("per-position input", pin.map(|s| s.len())), ("labels", labels.map(|s| s.len()))] {
        if let Some(l) = s {
            check(n, l, g.positions());
        }
    }
    for (n, s) in
        [("per-position output", pout.as_deref().map(|s| s.len())), ("second per-position output", pout2.as_deref().map(|s| s.len()))]
    {
        if let Some(l) = s {
            check(n, l, g.positions());
        }
    }
    if g.positions() == 0 {
        return;
    }
    Bufs { g, pos0: 0, a, b, out, pin, labels, pout, pout2 }.run_leaves(par.tasks(), &leaf);
}

// ---------------------------------------------------------------------------------
// In-place driver: like `drive`, with the tensor itself as the mutable row.

/// One position's data handed to an in-place row closure.
struct RowMut<'r, E> {
    a: &'r mut [E],
    label: i64,
    pos: usize,
}

struct BufsMut<'a, E, P> {
    g: Geom,
    pos0: usize,
    a: &'a mut [E],
    labels: Option<&'a [i64]>,
    pout: Option<&'a mut [P]>,
    pout2: Option<&'a mut [P]>,
}

impl<'a, E: Elem, P: Elem> BufsMut<'a, E, P> {
    fn split(self, outer_left: usize) -> (BufsMut<'a, E, P>, BufsMut<'a, E, P>) {
        let g = self.g;
        let ce = outer_left * g.classes * g.inner;
        let pe = outer_left * g.inner;
        let (a0, a1) = self.a.split_at_mut(ce);
        let (l0, l1) = split_opt(self.labels, pe);
        let (q0, q1) = split_opt_mut(self.pout, pe);
        let (r0, r1) = split_opt_mut(self.pout2, pe);
        let gl = Geom { outer: outer_left, ..g };
        let gr = Geom { outer: g.outer - outer_left, ..g };
        (
            BufsMut { g: gl, pos0: self.pos0, a: a0, labels: l0, pout: q0, pout2: r0 },
            BufsMut { g: gr, pos0: self.pos0 + pe, a: a1, labels: l1, pout: q1, pout2: r1 },
        )
    }

    fn run_leaves<F>(self, par_tasks: usize, leaf: &F)
    where
        F: Fn(BufsMut<'a, E, P>) + Sync,
    {
        let work = self.g.len().max(self.g.positions());
        if par_tasks > 1 && self.g.outer > 1 && work >= 2 * GRAIN {
            let left = self.g.outer / 2;
            let (l, r) = self.split(left);
            let tl = par_tasks / 2;
            rayon::join(|| l.run_leaves(tl.max(1), leaf), || r.run_leaves((par_tasks - tl).max(1), leaf));
        } else {
            leaf(self);
            fence();
        }
    }

    fn run_seq<F>(self, f: &F)
    where
        F: Fn(RowMut<'_, E>) -> (P, P),
    {
        let Geom { outer, classes: c, inner } = self.g;
        let BufsMut { a, labels, mut pout, mut pout2, pos0, .. } = self;
        let mut emit = |p: usize, v: (P, P)| {
            if let Some(q) = pout.as_deref_mut() {
                q[p] = v.0;
            }
            if let Some(q) = pout2.as_deref_mut() {
                q[p] = v.1;
            }
        };
        if inner == 1 {
            for (r, row) in a.chunks_exact_mut(c.max(1)).take(outer).enumerate() {
                let v = f(RowMut { a: &mut row[..c], label: labels.map_or(0, |l| l[r]), pos: pos0 + r });
                emit(r, v);
            }
            if c == 0 {
                for r in 0..outer {
                    let v = f(RowMut { a: &mut [], label: labels.map_or(0, |l| l[r]), pos: pos0 + r });
                    emit(r, v);
                }
            }
            return;
        }
        let mut ta = vec![E::default(); TILE * c];
        for o in 0..outer {
            let base = o * c * inner;
            let mut j0 = 0;
            while j0 < inner {
                let w = TILE.min(inner - j0);
                for k in 0..c {
                    let src = base + k * inner + j0;
                    for t in 0..w {
                        ta[t * c + k] = a[src + t];
                    }
                }
                for t in 0..w {
                    let p = o * inner + j0 + t;
                    let v = f(RowMut { a: &mut ta[t * c..(t + 1) * c], label: labels.map_or(0, |l| l[p]), pos: pos0 + p });
                    emit(p, v);
                }
                for k in 0..c {
                    let dst = base + k * inner + j0;
                    for t in 0..w {
                        a[dst + t] = ta[t * c + k];
                    }
                }
                j0 += w;
            }
        }
    }
}

/// The in-place driver: checks, then hands contiguous outer ranges to `leaf`.
fn drive_in_place_leaves<'a, E: Elem, P: Elem, F>(
    g: Geom,
    par: Par,
    a: &'a mut [E],
    labels: Option<&'a [i64]>,
    pout: Option<&'a mut [P]>,
    pout2: Option<&'a mut [P]>,
    leaf: F,
) where
    F: Fn(BufsMut<'a, E, P>) + Sync,
{
    check("input", a.len(), g.len());
    if let Some(l) = labels {
        check("labels", l.len(), g.positions());
    }
    for (n, s) in
        [("per-position output", pout.as_deref().map(|s| s.len())), ("second per-position output", pout2.as_deref().map(|s| s.len()))]
    {
        if let Some(l) = s {
            check(n, l, g.positions());
        }
    }
    if g.positions() == 0 {
        return;
    }
    BufsMut { g, pos0: 0, a, labels, pout, pout2 }.run_leaves(par.tasks(), &leaf);
}

/// Rows at least this long keep their exps in a scratch row between the two passes
/// (L2-resident: `4·C` bytes per thread), so the write pass of softmax and of the
/// fused cross-entropy does no exp: one exp per element instead of two.
pub const CACHE_MIN: usize = 256;

/// A piece's scratch row: the kept exps, and the per-block maxima.
///
/// Each row's exps start on a 64-byte line, placed for the row (see
/// [`Scratch::rows`]) so that its stores and loads do not alias the row's input and
/// output in the store buffer.
struct Scratch<S> {
    buf: Vec<S>,
    len: usize,
    mb: Vec<S>,
}

impl<S: Elem> Scratch<S> {
    fn new(c: usize) -> RefCell<Self> {
        let buf = vec![S::default(); c + 4096 / size_of::<S>()];
        RefCell::new(Scratch { buf, len: c, mb: vec![S::default(); c.div_ceil(simd::rows::BLOCK)] })
    }

    /// The exps' row for a row with input at `x` and output at `out` (the input
    /// itself when in place), and the per-block maxima.
    ///
    /// The row starts on a 64-byte line: a `Vec` of `f32` starts 16 bytes past one,
    /// and every 64-byte load and store would then straddle two lines (measured on
    /// AMD Zen 4, 2 threads, softmax 8192×1000 with non-temporal output: 1.94 ms from
    /// a row 16 bytes past a line, 1.65 ms from one on a line).
    ///
    /// And it starts at a chosen address modulo 4 KiB. A load whose address matches
    /// an older store's in the low 12 bits waits for it (4K aliasing). The exp sweep
    /// stores exp `k` and soon loads input `k + δ`; the write pass loads exp `k` and
    /// stores output `k`. Both stream pairs advance together, so each keeps one
    /// distance modulo 4096 for the whole row: `φ = e − x` and `D − φ`, `D = out − x`.
    /// A store is safe when the load stream reaches its address (mod 4096) only much
    /// later, that is when that distance is large; `φ = D/2 + 2048` makes both at
    /// least 2 KiB. Rows that march through memory 4 KiB apart otherwise meet every
    /// phase, some of them at a distance of a few lines.
    fn rows(&mut self, x: usize, out: usize) -> (&mut [S], &mut [S]) {
        let d = out.wrapping_sub(x) % 4096;
        let want = (x.wrapping_add(d / 2 + 2048) & !63) % 4096;
        let off = want.wrapping_sub(self.buf.as_ptr() as usize) % 4096 / size_of::<S>();
        (&mut self.buf[off..off + self.len], &mut self.mb)
    }
}

/// Run a piece's rows through `cached` (with a scratch row) when `c ≥ CACHE_MIN`,
/// else through `row`.
fn run_cached<E: Elem, P: Elem, S: Elem, F, G>(b: Bufs<'_, E, P>, c: usize, row: &F, cached: &G)
where
    F: Fn(Row<'_, E, P>) -> (P, P),
    G: Fn(Row<'_, E, P>, &mut [S], &mut [S]) -> (P, P),
{
    if c >= CACHE_MIN {
        let sc = Scratch::<S>::new(c);
        b.run_seq(&|r| {
            let mut sc = sc.borrow_mut();
            let x = r.a.as_ptr() as usize;
            let (e, mb) = sc.rows(x, r.out.as_deref().map_or(x, |o| o.as_ptr() as usize));
            cached(r, e, mb)
        });
    } else {
        b.run_seq(row);
    }
}

/// [`run_cached`] for the in-place driver.
fn run_cached_mut<E: Elem, P: Elem, S: Elem, F, G>(b: BufsMut<'_, E, P>, c: usize, row: &F, cached: &G)
where
    F: Fn(RowMut<'_, E>) -> (P, P),
    G: Fn(RowMut<'_, E>, &mut [S], &mut [S]) -> (P, P),
{
    if c >= CACHE_MIN {
        let sc = Scratch::<S>::new(c);
        b.run_seq(&|r| {
            let mut sc = sc.borrow_mut();
            let x = r.a.as_ptr() as usize;
            let (e, mb) = sc.rows(x, x);
            cached(r, e, mb)
        });
    } else {
        b.run_seq(row);
    }
}

// ---------------------------------------------------------------------------------
// Row compositions over a kernel table.

/// The last-level cache assumed where the system does not say ([`llc_bytes`]).
pub const LLC_FALLBACK_BYTES: usize = 32 << 20;

/// The size of the last-level data cache that CPU 0 shares with its neighbours, in
/// bytes, as Linux reports it (`/sys/devices/system/cpu/cpu0/cache/index*/`, the
/// highest level that holds data); [`LLC_FALLBACK_BYTES`] elsewhere or when it does
/// not say. Read once.
///
/// ```
/// assert!(xent::kernels::llc_bytes() > 0);
/// ```
pub fn llc_bytes() -> usize {
    static LLC: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *LLC.get_or_init(|| sysfs_llc_bytes().unwrap_or(LLC_FALLBACK_BYTES))
}

fn sysfs_llc_bytes() -> Option<usize> {
    let dir = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache").ok()?;
    let read = |p: &std::path::Path, f: &str| std::fs::read_to_string(p.join(f)).ok().map(|s| s.trim().to_owned());
    let mut best: Option<(u32, usize)> = None;
    for ent in dir.flatten() {
        let p = ent.path();
        if !ent.file_name().to_string_lossy().starts_with("index") || read(&p, "type").as_deref() == Some("Instruction") {
            continue;
        }
        let (Some(level), Some(size)) = (read(&p, "level").and_then(|l| l.parse::<u32>().ok()), read(&p, "size")) else {
            continue;
        };
        let Some(bytes) = cache_size_bytes(&size) else { continue };
        if bytes > 0 && best.is_none_or(|(l, _)| level > l) {
            best = Some((level, bytes));
        }
    }
    best.map(|(_, b)| b)
}

/// A sysfs cache `size` (`"32768K"`, `"1M"`, `"512"`) in bytes; `None` for anything
/// else or on overflow.
fn cache_size_bytes(size: &str) -> Option<usize> {
    let (digits, unit) = size.split_at(size.find(|c: char| !c.is_ascii_digit()).unwrap_or(size.len()));
    let shift = match unit {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        _ => return None,
    };
    let n = digits.parse::<usize>().ok()?;
    n.checked_mul(1 << shift)
}

/// Outputs (class axis last) of at least this many bytes are written with
/// non-temporal stores, which skip the read-for-ownership of each line and leave the
/// cache to the input; smaller outputs stay in the cache for whoever reads them next.
///
/// Half the last-level cache ([`llc_bytes`]): from there a softmax's input and output
/// together no longer fit it, so the output would push out the input and its own
/// first lines before anyone reads them. Measured on AMD Zen 4 (32 MiB L3, 2 threads,
/// the best of 4 paired runs, non-temporal against ordinary stores, forced either
/// way): softmax 8192×1000 (31 MiB out) 1.77 against 1.99 ms, log-softmax 1.57
/// against 2.17, CE fwd+bwd 2.07 against 2.42; 4096×1000 (15.6 MiB, just under the
/// threshold) 0.69 against 0.88, 0.65 against 0.81, 0.76 against 0.89; at 8 MiB
/// (1024×2000) ordinary stores win, softmax 0.31 against 0.33. The crossover lies
/// between, where input and output together fill the cache.
///
/// ```
/// use xent::kernels::{llc_bytes, nt_min_bytes};
/// assert_eq!(nt_min_bytes(), llc_bytes() / 2);
/// ```
pub fn nt_min_bytes() -> usize {
    llc_bytes() / 2
}

#[cfg(test)]
thread_local! {
    /// Tests lower [`nt_min_bytes`] (for kernels called on this thread) to reach the
    /// non-temporal paths on small tensors.
    pub(crate) static NT_MIN_TEST: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

fn use_nt<T>(g: Geom) -> bool {
    #[cfg(test)]
    let min = NT_MIN_TEST.with(|c| c.get()).unwrap_or_else(nt_min_bytes);
    #[cfg(not(test))]
    let min = nt_min_bytes();
    g.inner == 1 && g.len() * size_of::<T>() >= min
}

/// The store mode of a row's write pass, and with the class axis last the next row
/// to prefetch meanwhile (rows are contiguous then).
fn wr_for<E>(g: Geom, nt: bool, row: &[E]) -> Wr {
    if g.inner == 1 {
        Wr::with_next_unfenced(nt, row)
    } else {
        Wr::nt(nt)
    }
}

/// The log-sum-exp of a row from `(m, s)`: `m + ln s`, NaN when the max of the
/// non-NaN entries is `−inf` (the row is all `−inf`/NaN), `−inf` for an empty row.
#[inline]
fn lse_from<T: Float>(m: T, s: T, n: usize) -> T {
    if m == T::neg_infinity() {
        if n == 0 {
            m
        } else {
            T::nan()
        }
    } else {
        m + s.ln()
    }
}

/// Per-call constants of the sparse cross-entropy.
struct SparseConsts<T> {
    inv_c: T,
    sum_w: T,
}

impl<T: Float> SparseConsts<T> {
    fn new(g: Geom, p: &SparseCe<'_, T>) -> Self {
        let c = T::of(g.classes as f64);
        SparseConsts { inv_c: T::one() / c, sum_w: p.weight.map_or(c, |w| w.iter().copied().sum()) }
    }
}

/// Sparse cross-entropy of one non-ignored row given `(m, ln s)`:
/// `(1 − ε)·w_y·((m − x_y) + ln s) + (ε/C)·(Σ_c w_c (m − x_c) + ln s·Σw)`
/// (the reference's `lse − x` split as `(m − x) + ln s`, which keeps its accuracy
/// when the logits are large).
#[inline]
fn sparse_loss_row<T: Float>(k: &RowKernels<T>, x: &[T], m: T, ls: T, y: usize, p: &SparseCe<'_, T>, c: &SparseConsts<T>) -> T {
    let wy = p.weight.map_or(T::one(), |w| w[y]);
    let v = wy * ((m - x[y]) + ls);
    if p.smoothing > T::zero() {
        let smooth = (k.smooth_sum)(x, p.weight, m) + ls * c.sum_w;
        (T::one() - p.smoothing) * v + p.smoothing * c.inv_c * smooth
    } else {
        v
    }
}

// ---------------------------------------------------------------------------------
// Public kernels.

/// Softmax over the class axis: `out = exp(x − m) · (1 / Σ exp(x − m))`, `m` the max.
///
/// A row holding NaN or `+inf`, or only `−inf`, gives NaN everywhere; a `−inf` entry
/// in a row with a finite max gives exactly 0.
pub(crate) fn softmax<T: Float>(x: &[T], g: Geom, out: &mut [T], par: Par) {
    let k = table::kernels::<T>();
    let nt = use_nt::<T>(g);
    if let Some(plan) = wide::Plan::new(g, par) {
        check("input", x.len(), g.len());
        check("output", out.len(), g.len());
        return wide::softmax(&plan, k, x, out, false, nt);
    }
    let row = |r: Row<'_, T, T>| {
        let (m, s) = (k.max_sum_exp)(r.a);
        (k.exp_scale)(r.a, r.out.expect("out"), m, s.recip(), wr_for(g, nt, r.a));
        (T::zero(), T::zero())
    };
    let cached = |r: Row<'_, T, T>, e: &mut [T], mb: &mut [T]| {
        let (out, wr) = (r.out.expect("out"), wr_for(g, nt, r.a));
        if nt {
            // each output line is streamed once: the exps wait in the scratch row
            let (m, s) = (k.max_sum_exp_store)(r.a, e, mb, true);
            (k.scale_from_exp)(e, out, mb, m, s.recip(), wr);
        } else {
            // the exps go into the output row and are scaled there (see `scale_in_place`)
            let (m, s) = (k.max_sum_exp_store)(r.a, out, mb, false);
            (k.scale_in_place)(out, mb, m, s.recip(), wr);
        }
        (T::zero(), T::zero())
    };
    let small = few::small_kernels(k, g);
    let lay = small.map(|sk| few::Lay::new(sk, g.classes, None));
    drive_leaves(g, par, x, None, Some(out), None, None, None, None, |b| match (small, &lay) {
        (Some(sk), Some(lay)) => few::softmax(sk, lay, b, false, &row),
        _ => run_cached(b, g.classes, &row, &cached),
    });
}

/// Log-softmax over the class axis: `out = (x − m) − ln Σ exp(x − m)`.
///
/// NaN rows as in [`softmax`]; a `−inf` entry in a row with a finite max gives `−inf`.
pub(crate) fn log_softmax<T: Float>(x: &[T], g: Geom, out: &mut [T], par: Par) {
    let k = table::kernels::<T>();
    let nt = use_nt::<T>(g);
    if let Some(plan) = wide::Plan::new(g, par) {
        check("input", x.len(), g.len());
        check("output", out.len(), g.len());
        return wide::softmax(&plan, k, x, out, true, nt);
    }
    let row = |r: Row<'_, T, T>| {
        let (m, s) = (k.max_sum_exp)(r.a);
        let l = if m == T::neg_infinity() { T::nan() } else { s.ln() };
        (k.sub2)(r.a, r.out.expect("out"), m, l, wr_for(g, nt, r.a));
        (T::zero(), T::zero())
    };
    match few::small_kernels(k, g) {
        Some(sk) => {
            let lay = few::Lay::new(sk, g.classes, None);
            drive_leaves(g, par, x, None, Some(out), None, None, None, None, |b| few::softmax(sk, &lay, b, true, &row));
        }
        None => drive(g, par, x, None, Some(out), None, None, None, None, row),
    }
}

/// Log-sum-exp over the class axis, one value per position: `m + ln Σ exp(x − m)`
/// (NaN for a row of only `−inf`, `−inf` for an empty class axis).
pub(crate) fn logsumexp<T: Float>(x: &[T], g: Geom, out: &mut [T], par: Par) {
    let k = table::kernels::<T>();
    if let Some(plan) = wide::Plan::new(g, par) {
        check("input", x.len(), g.len());
        check("output", out.len(), g.positions());
        return wide::logsumexp(&plan, k, x, out);
    }
    let row = |r: Row<'_, T, T>| {
        let (m, s) = (k.max_sum_exp)(r.a);
        (lse_from(m, s, r.a.len()), T::zero())
    };
    match few::small_kernels(k, g) {
        Some(sk) => drive_leaves(g, par, x, None, None, None, None, Some(out), None, |b| few::logsumexp(sk, g.classes, b, &row)),
        None => drive(g, par, x, None, None, None, None, Some(out), None, row),
    }
}

/// Softmax VJP: `out = y ∘ (gy − Σ_c gy_c y_c)`, `y` the forward softmax output,
/// evaluated per row as `y ∘ (gy − Σ_c gy_c y_c / Σ_c y_c)`: the same value when
/// `Σ y = 1`, and the exact VJP of the softmax that was actually rounded. The
/// normaliser makes a constant `gy` (the gradient of `sum(softmax)`, 0 in exact
/// arithmetic) give exactly 0 (numerator and denominator are accumulated alike),
/// where the plain form leaves `y·gy·(1 − Σ y)`, rounding noise of `|gy|·eps`.
pub(crate) fn softmax_bwd<T: Float>(y: &[T], gy: &[T], g: Geom, out: &mut [T], par: Par) {
    let k = table::kernels::<T>();
    let nt = use_nt::<T>(g);
    drive(g, par, y, Some(gy), Some(out), None, None, None, None, |r| {
        let gy = r.b.expect("gy");
        let (d, sy) = (k.dot_sum)(r.a, gy);
        (k.softmax_bwd)(r.a, gy, r.out.expect("out"), d / sy, nt);
        (T::zero(), T::zero())
    });
}

/// [`softmax_bwd`] with the upstream gradient `c` at every element (`c·sum(softmax)`,
/// the `--grad` of a softmax), in place over the forward output `y`: the values of
/// `softmax_bwd(y, [c; n], ..)` bit for bit (each row goes through the same row
/// kernels, from a copy of the row and a row of `c`), without an upstream array or a
/// second output array.
pub(crate) fn softmax_bwd_const_in_place<T: Float>(y: &mut [T], c: T, g: Geom, par: Par) {
    let k = table::kernels::<T>();
    drive_in_place_leaves::<T, T, _>(g, par, y, None, None, None, |b| {
        let cs = vec![c; g.classes];
        let ys = RefCell::new(vec![T::zero(); g.classes]);
        b.run_seq(&|r: RowMut<'_, T>| {
            let ys = &mut *ys.borrow_mut();
            ys.copy_from_slice(r.a);
            let (d, sy) = (k.dot_sum)(ys, &cs);
            (k.softmax_bwd)(ys, &cs, r.a, d / sy, false);
            (T::zero(), T::zero())
        });
    });
}

/// Log-softmax VJP from the forward output: `out = gy − exp(y) · Σ_c gy_c`, `y` the
/// forward log-softmax output (`Σ gy` compensated). [`log_softmax_bwd_from_input`] is
/// more accurate when the input is at hand.
pub(crate) fn log_softmax_bwd<T: Float>(y: &[T], gy: &[T], g: Geom, out: &mut [T], par: Par) {
    let k = table::kernels::<T>();
    let nt = use_nt::<T>(g);
    drive(g, par, y, Some(gy), Some(out), None, None, None, None, |r| {
        let gy = r.b.expect("gy");
        let t = (k.sum)(gy);
        (k.log_softmax_bwd)(r.a, gy, r.out.expect("out"), T::zero(), T::zero(), t, nt);
        (T::zero(), T::zero())
    });
}

/// Log-softmax VJP from the input `x`: `out = gy − p · Σ_c gy_c` with
/// `p = exp((x − m) − ln s)` recomputed from `x` (row max `m`, `s = Σ exp(x − m)`), the
/// rounding of both subtractions folded back in, and `Σ gy` compensated. The
/// `exp(y)` of a rounded log-softmax `y` is off by `|y|·eps/2` relative, and
/// `gy − p·Σ gy` amplifies that where it nearly cancels; this form keeps `p` to about
/// an ulp. `f32` rows are computed in `f64` (row statistics, `p` and `Σ gy`) and
/// rounded once: correct to the last bit or so even where the result cancels, at the
/// price of scalar `f64` exps (this backward is not one of the benchmarked kernels).
/// A row of only `−inf` or holding NaN gives NaN, as the forward.
pub(crate) fn log_softmax_bwd_from_input<T: Float>(x: &[T], gy: &[T], g: Geom, out: &mut [T], par: Par) {
    let k = table::kernels::<T>();
    let nt = use_nt::<T>(g);
    drive(g, par, x, Some(gy), Some(out), None, None, None, None, |r| {
        log_softmax_bwd_row(k, r.a, r.b.expect("gy"), r.out.expect("out"), nt);
        (T::zero(), T::zero())
    });
}

/// [`log_softmax_bwd_from_input`] with the upstream gradient `c` at every element
/// (`c·sum(log_softmax)`, the `--grad` of a log-softmax): the same values bit for bit
/// (each row goes through the same row code with a row of `c`), without an upstream
/// array.
pub(crate) fn log_softmax_bwd_from_input_const<T: Float>(x: &[T], c: T, g: Geom, out: &mut [T], par: Par) {
    let k = table::kernels::<T>();
    let nt = use_nt::<T>(g);
    drive_leaves::<T, T, _>(g, par, x, None, Some(out), None, None, None, None, |b| {
        let cs = vec![c; g.classes];
        b.run_seq(&|r: Row<'_, T, T>| {
            log_softmax_bwd_row(k, r.a, &cs, r.out.expect("out"), nt);
            (T::zero(), T::zero())
        });
    });
}

/// One row of [`log_softmax_bwd_from_input`].
fn log_softmax_bwd_row<T: Float>(k: &RowKernels<T>, x: &[T], gy: &[T], out: &mut [T], nt: bool) {
    let (m, s) = (k.max_sum_exp)(x);
    if T::DTYPE == crate::array::DType::F32 {
        let (m64, ls64) = row_stats_f64(x, m, s);
        let t: f64 = gy.iter().map(|v| v.f64()).sum();
        for ((o, &v), &b) in out.iter_mut().zip(x).zip(gy) {
            *o = T::of(b.f64() - (v.f64() - m64 - ls64).exp() * t);
        }
        return;
    }
    let ls = if m == T::neg_infinity() { T::nan() } else { s.ln() };
    let t = (k.sum)(gy);
    (k.log_softmax_bwd)(x, gy, out, m, ls, t, nt);
}

/// `(m, ln Σ exp(x − m))` of a row in `f64`, from the row kernels' `(m, s)`: NaN for
/// the log-sum when the row has no finite max or `s` is NaN (a NaN or `+inf` entry),
/// as the `f32` path. The `f64` precision is what lets a backward whose output
/// nearly cancels (`g − p·Σg`, `p·a − t`) be correct to its last bit in `f32`: an
/// `f32` softmax carries an ulp or two of error, which that cancellation magnifies.
fn row_stats_f64<T: Float>(x: &[T], m: T, s: T) -> (f64, f64) {
    let m64 = m.f64();
    if m == T::neg_infinity() || s.is_nan() {
        return (m64, f64::NAN);
    }
    (m64, x.iter().map(|v| (v.f64() - m64).exp()).sum::<f64>().ln())
}

fn is_ignored(label: i64, p: &SparseCe<'_, impl Float>) -> bool {
    p.ignore_index == Some(label)
}

/// Sparse cross-entropy forward. Writes `loss` and `lse` per position.
///
/// `loss = (1 − ε)·w[y]·(lse − x_y) + (ε/C)·Σ_c w_c (lse − x_c)`; ignored positions get
/// `loss = 0` (their `lse` is still written). Labels must already be validated: every
/// label is in `[0, classes)` or equal to `p.ignore_index`.
pub(crate) fn ce_sparse_fwd<T: Float>(x: &[T], g: Geom, labels: &[i64], p: &SparseCe<'_, T>, loss: &mut [T], lse: &mut [T], par: Par) {
    let k = table::kernels::<T>();
    let cst = SparseConsts::new(g, p);
    if let Some(plan) = wide::Plan::new(g, par) {
        check("input", x.len(), g.len());
        for (n, l) in [("labels", labels.len()), ("loss", loss.len()), ("lse", lse.len())] {
            check(n, l, g.positions());
        }
        let ce = wide::Ce { labels, p, cst: &cst, scale: None };
        return wide::ce(&plan, k, x, &ce, loss, lse, None, false);
    }
    let row = |r: Row<'_, T, T>| {
        let (m, s) = (k.max_sum_exp)(r.a);
        let l = lse_from(m, s, r.a.len());
        if is_ignored(r.label, p) {
            return (T::zero(), l);
        }
        (sparse_loss_row(k, r.a, m, s.ln(), r.label as usize, p, &cst), l)
    };
    match few::small_kernels(k, g) {
        Some(sk) => {
            let lay = few::Lay::new(sk, g.classes, p.weight);
            let ce = few::Ce { p, cst: &cst, scale: None };
            drive_leaves(g, par, x, None, None, None, Some(labels), Some(loss), Some(lse), |b| few::ce(sk, &lay, &ce, b, &row));
        }
        None => drive(g, par, x, None, None, None, Some(labels), Some(loss), Some(lse), row),
    }
}

/// Coefficients `(a, b_all, b_y)` of the sparse gradient row
/// `grad_k = s·((1 − ε)·w_y·(p_k − [k=y]) + (ε/C)·(p_k·Σw − w_k))`.
fn sparse_coeffs<T: Float>(p: &SparseCe<'_, T>, sum_w: T, inv_c: T, y: usize, s: T) -> (T, T, T) {
    let eps = p.smoothing;
    let wy = p.weight.map_or(T::one(), |w| w[y]);
    let a = s * ((T::one() - eps) * wy + eps * inv_c * sum_w);
    let b_all = s * eps * inv_c;
    let b_y = s * (T::one() - eps) * wy;
    (a, b_all, b_y)
}

/// The gradient terms of one non-ignored row with label `y` and scale `s`.
fn sparse_grad_terms<'w, T: Float>(p: &SparseCe<'w, T>, c: &SparseConsts<T>, m: T, l: T, y: usize, s: T) -> Grad<'w, T> {
    let (a, b_all, b_y) = sparse_coeffs(p, c.sum_w, c.inv_c, y, s);
    Grad { m, l, a, b_all, w: p.weight, y: Some(y), b_y }
}

/// Sparse cross-entropy backward into `grad` (same geometry as `x`), given the
/// forward's `lse`: `grad = scale · ((1 − ε)·w_y·(softmax − onehot) + (ε/C)·(softmax·Σw − w))`,
/// zero rows at ignored positions.
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
pub(crate) fn ce_sparse_bwd<T: Float>(
    x: &[T],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, T>,
    lse: &[T],
    scale: Scale<'_, T>,
    grad: &mut [T],
    par: Par,
) {
    let k = table::kernels::<T>();
    let nt = use_nt::<T>(g);
    let cst = SparseConsts::new(g, p);
    if let Scale::PerPosition(s) = scale {
        check("scale", s.len(), g.positions());
    }
    if let Some(plan) = wide::Plan::new(g, par) {
        check("input", x.len(), g.len());
        check("grad", grad.len(), g.len());
        for (n, l) in [("labels", labels.len()), ("lse", lse.len())] {
            check(n, l, g.positions());
        }
        let ce = wide::Ce { labels, p, cst: &cst, scale: Some(scale) };
        return wide::ce_bwd(&plan, k, x, &ce, lse, grad, nt);
    }
    let row = |r: Row<'_, T, T>| {
        let out = r.out.expect("grad");
        if is_ignored(r.label, p) {
            out.fill(T::zero());
            return (T::zero(), T::zero());
        }
        let t = sparse_grad_terms(p, &cst, r.pin, T::zero(), r.label as usize, scale.at(r.pos));
        (k.sparse_grad)(r.a, out, &t, wr_for(g, nt, r.a));
        (T::zero(), T::zero())
    };
    match few::small_kernels(k, g) {
        Some(sk) => {
            let lay = few::Lay::new(sk, g.classes, p.weight);
            let ce = few::Ce { p, cst: &cst, scale: Some(scale) };
            drive_leaves(g, par, x, None, Some(grad), Some(lse), Some(labels), None, None, |b| few::ce_bwd(sk, &lay, &ce, b, &row));
        }
        None => drive(g, par, x, None, Some(grad), Some(lse), Some(labels), None, None, row),
    }
}

/// Fused sparse cross-entropy forward and backward: one read of the logits for the
/// row's `(max, Σ exp)` (blocked, from memory), one more (from cache) to write the
/// gradient. Writes `loss` and `lse` per position, as [`ce_sparse_fwd`], and
/// `grad = scale · ((1 − ε)·w_y·(softmax − onehot) + (ε/C)·(softmax·Σw − w))` as
/// [`ce_sparse_bwd`] (zero rows at ignored positions). The upstream scale must be
/// known in advance: for a mean over positions it is `1/N` (or `1/Σ w_y`), which
/// depends only on the labels.
///
/// Large outputs are written with non-temporal stores ([`nt_min_bytes`]).
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
pub(crate) fn ce_sparse_fwd_bwd<T: Float>(
    x: &[T],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, T>,
    scale: Scale<'_, T>,
    loss: &mut [T],
    lse: &mut [T],
    grad: &mut [T],
    par: Par,
) {
    let k = table::kernels::<T>();
    let nt = use_nt::<T>(g);
    let cst = SparseConsts::new(g, p);
    if let Scale::PerPosition(s) = scale {
        check("scale", s.len(), g.positions());
    }
    if let Some(plan) = wide::Plan::new(g, par) {
        check("input", x.len(), g.len());
        check("grad", grad.len(), g.len());
        for (n, l) in [("labels", labels.len()), ("loss", loss.len()), ("lse", lse.len())] {
            check(n, l, g.positions());
        }
        let ce = wide::Ce { labels, p, cst: &cst, scale: Some(scale) };
        return wide::ce(&plan, k, x, &ce, loss, lse, Some(grad), nt);
    }
    let row = |r: Row<'_, T, T>| {
        let out = r.out.expect("grad");
        let (m, s) = (k.max_sum_exp)(r.a);
        let l = lse_from(m, s, r.a.len());
        if is_ignored(r.label, p) {
            out.fill(T::zero());
            return (T::zero(), l);
        }
        let (y, ls) = (r.label as usize, s.ln());
        let v = sparse_loss_row(k, r.a, m, ls, y, p, &cst);
        let t = sparse_grad_terms(p, &cst, m, ls, y, scale.at(r.pos));
        (k.sparse_grad)(r.a, out, &t, wr_for(g, nt, r.a));
        (v, l)
    };
    let cached = |r: Row<'_, T, T>, e: &mut [T], mb: &mut [T]| {
        let out = r.out.expect("grad");
        let (m, s) = (k.max_sum_exp_store)(r.a, e, mb, nt);
        let l = lse_from(m, s, r.a.len());
        if is_ignored(r.label, p) {
            out.fill(T::zero());
            return (T::zero(), l);
        }
        let (y, ls) = (r.label as usize, s.ln());
        let v = sparse_loss_row(k, r.a, m, ls, y, p, &cst);
        let t = sparse_grad_terms(p, &cst, m, ls, y, scale.at(r.pos));
        (k.grad_from_exp)(e, out, mb, &t, wr_for(g, nt, r.a));
        (v, l)
    };
    let small = few::small_kernels(k, g);
    let lay = small.map(|sk| few::Lay::new(sk, g.classes, p.weight));
    let ce = few::Ce { p, cst: &cst, scale: Some(scale) };
    drive_leaves(g, par, x, None, Some(grad), None, Some(labels), Some(loss), Some(lse), |b| match (small, &lay) {
        (Some(sk), Some(lay)) => few::ce(sk, lay, &ce, b, &row),
        _ => run_cached(b, g.classes, &row, &cached),
    });
}

/// [`ce_sparse_fwd_bwd`] that overwrites the logits `x` with the gradient (the
/// Liger-kernel trick: logits and gradient never coexist). The row is read once from
/// memory and rewritten from cache, so each line goes back to memory once, with no
/// read-for-ownership.
///
/// # Example
/// ```
/// use xent::kernels::{checked::ce_sparse_fwd_bwd_in_place, Geom, Par, Scale, SparseCe};
/// // two rows of three logits, labels 2 and 0, mean over the rows
/// let mut x = vec![1.0f32, 2.0, 3.0, 0.5, 0.5, 0.5];
/// let (mut loss, mut lse) = ([0.0f32; 2], [0.0f32; 2]);
/// let p = SparseCe::default();
/// ce_sparse_fwd_bwd_in_place(&mut x, Geom::rows(2, 3), &[2, 0], &p, Scale::Uniform(0.5), &mut loss, &mut lse, Par::Seq).unwrap();
/// assert!((loss[1] - 3f32.ln()).abs() < 1e-6);
/// // `x` now holds d(mean loss)/dx: (softmax − onehot)/2, each row summing to 0
/// assert!((x[3] - (1.0 / 3.0 - 1.0) / 2.0).abs() < 1e-6);
/// assert!(x[..3].iter().sum::<f32>().abs() < 1e-6);
/// ```
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
pub(crate) fn ce_sparse_fwd_bwd_in_place<T: Float>(
    x: &mut [T],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, T>,
    scale: Scale<'_, T>,
    loss: &mut [T],
    lse: &mut [T],
    par: Par,
) {
    let k = table::kernels::<T>();
    let cst = SparseConsts::new(g, p);
    if let Scale::PerPosition(s) = scale {
        check("scale", s.len(), g.positions());
    }
    if let Some(plan) = wide::Plan::new(g, par) {
        check("input", x.len(), g.len());
        for (n, l) in [("labels", labels.len()), ("loss", loss.len()), ("lse", lse.len())] {
            check(n, l, g.positions());
        }
        let ce = wide::Ce { labels, p, cst: &cst, scale: Some(scale) };
        return wide::ce_in_place(&plan, k, x, &ce, loss, lse);
    }
    let row = |r: RowMut<'_, T>| {
        let (m, s) = (k.max_sum_exp)(r.a);
        let l = lse_from(m, s, r.a.len());
        if is_ignored(r.label, p) {
            r.a.fill(T::zero());
            return (T::zero(), l);
        }
        let (y, ls) = (r.label as usize, s.ln());
        let v = sparse_loss_row(k, r.a, m, ls, y, p, &cst);
        let t = sparse_grad_terms(p, &cst, m, ls, y, scale.at(r.pos));
        (k.sparse_grad_in_place)(r.a, &t);
        (v, l)
    };
    let cached = |r: RowMut<'_, T>, e: &mut [T], mb: &mut [T]| {
        let (m, s) = (k.max_sum_exp_store)(r.a, e, mb, true);
        let l = lse_from(m, s, r.a.len());
        if is_ignored(r.label, p) {
            r.a.fill(T::zero());
            return (T::zero(), l);
        }
        let (y, ls) = (r.label as usize, s.ln());
        let v = sparse_loss_row(k, r.a, m, ls, y, p, &cst);
        let t = sparse_grad_terms(p, &cst, m, ls, y, scale.at(r.pos));
        let wr = wr_for(g, false, r.a);
        (k.grad_from_exp)(e, r.a, mb, &t, wr);
        (v, l)
    };
    let small = few::small_kernels(k, g);
    let lay = small.map(|sk| few::Lay::new(sk, g.classes, p.weight));
    let ce = few::Ce { p, cst: &cst, scale: Some(scale) };
    drive_in_place_leaves(g, par, x, Some(labels), Some(loss), Some(lse), |b| match (small, &lay) {
        (Some(sk), Some(lay)) => few::ce_in_place(sk, lay, &ce, b, &row),
        _ => run_cached_mut(b, g.classes, &row, &cached),
    });
}

/// Dense (probability-target) cross-entropy forward:
/// `loss = Σ_c w_c t_c (lse − x_c)` per position, plus `lse`.
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
pub(crate) fn ce_dense_fwd<T: Float>(x: &[T], t: &[T], g: Geom, weight: Option<&[T]>, loss: &mut [T], lse: &mut [T], par: Par) {
    let k = table::kernels::<T>();
    drive(g, par, x, Some(t), None, None, None, Some(loss), Some(lse), |r| {
        let (m, s) = (k.max_sum_exp)(r.a);
        let l = lse_from(m, s, r.a.len());
        let ls = if m == T::neg_infinity() { T::nan() } else { s.ln() };
        ((k.dense_ce)(r.a, r.b.expect("t"), weight, m, ls), l)
    });
}

/// Dense cross-entropy backward: `grad = scale · (softmax·a − w ∘ t)` with `a = 1` for
/// [`DenseGrad::Kernel`] (TensorFlow's fused kernel, `w` must be `None`) and
/// `a = Σ_c w_c t_c` for [`DenseGrad::Exact`].
///
/// Each row's `(max, Σ exp)` is computed here, in the pass that reads the row into
/// cache for the write pass, and the softmax is `exp((x − m) − ln s)`: the log-sum-exp
/// is never rounded as one number (a forward `lse` would lose the digits of `ln s`
/// next to a large max). `f32` rows are computed in `f64` and rounded once (soft
/// labels make `p·a − t` cancel, magnifying an `f32` softmax's ulp; this backward
/// is not one of the benchmarked kernels).
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
pub(crate) fn ce_dense_bwd<T: Float>(
    x: &[T],
    t: &[T],
    g: Geom,
    weight: Option<&[T]>,
    mode: DenseGrad,
    scale: Scale<'_, T>,
    grad: &mut [T],
    par: Par,
) {
    let k = table::kernels::<T>();
    let nt = use_nt::<T>(g);
    if let Scale::PerPosition(s) = scale {
        check("scale", s.len(), g.positions());
    }
    let wide = T::DTYPE == crate::array::DType::F32;
    drive(g, par, x, Some(t), Some(grad), None, None, None, None, |r| {
        let (m, s) = (k.max_sum_exp)(r.a);
        let tr = r.b.expect("t");
        if wide {
            dense_grad_row_f64(r.a, tr, weight, m, s, mode, scale.at(r.pos), r.out.expect("grad"));
            return (T::zero(), T::zero());
        }
        let ls = if m == T::neg_infinity() { T::nan() } else { s.ln() };
        let a = match mode {
            DenseGrad::Kernel => T::one(),
            DenseGrad::Exact => match weight {
                Some(w) => (k.dot)(tr, w),
                None => (k.sum)(tr),
            },
        };
        (k.dense_grad)(r.a, tr, weight, m, ls, a, scale.at(r.pos), r.out.expect("grad"), nt);
        (T::zero(), T::zero())
    });
}

/// One row of [`ce_dense_bwd`] in `f64`, rounded once: `sc·(p·a − w∘t)` with
/// `p = exp(x − m) / Σ exp(x − m)` (see [`row_stats_f64`] for why).
#[allow(clippy::too_many_arguments)] // the operands of the formula
fn dense_grad_row_f64<T: Float>(x: &[T], t: &[T], w: Option<&[T]>, m: T, s: T, mode: DenseGrad, sc: T, out: &mut [T]) {
    let (m64, ls64) = row_stats_f64(x, m, s);
    let wt = |k: usize| w.map_or(1.0, |w| w[k].f64()) * t[k].f64();
    let a = match mode {
        DenseGrad::Kernel => 1.0,
        DenseGrad::Exact => (0..t.len()).map(wt).sum::<f64>(),
    };
    let sc = sc.f64();
    for (k, (o, &v)) in out.iter_mut().zip(x).enumerate() {
        *o = T::of(sc * ((v.f64() - m64 - ls64).exp() * a - wt(k)));
    }
}

// ---------------------------------------------------------------------------------
// Half-precision inputs.

/// [`sparse_loss_row`] for 16-bit logits (`f32` arithmetic).
#[inline]
fn sparse_loss_row_half<H: Half>(
    k: &HalfKernels<H>,
    x: &[H],
    m: f32,
    ls: f32,
    y: usize,
    p: &SparseCe<'_, f32>,
    c: &SparseConsts<f32>,
) -> f32 {
    let wy = p.weight.map_or(1.0, |w| w[y]);
    let v = wy * ((m - x[y].to_f32()) + ls);
    if p.smoothing > 0.0 {
        let smooth = (k.smooth_sum)(x, p.weight, m) + ls * c.sum_w;
        (1.0 - p.smoothing) * v + p.smoothing * c.inv_c * smooth
    } else {
        v
    }
}

/// [`ce_sparse_fwd`] for `f16`/`bf16` logits: every sum and exp in `f32`, `loss` and
/// `lse` in `f32`.
pub(crate) fn ce_sparse_fwd_half<H: Half>(
    x: &[H],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, f32>,
    loss: &mut [f32],
    lse: &mut [f32],
    par: Par,
) {
    let k = H::half_kernels(current_isa());
    let cst = SparseConsts::new(g, p);
    let row = |r: Row<'_, H, f32>| {
        let (m, s) = (k.max_sum_exp)(r.a);
        let l = lse_from(m, s, r.a.len());
        if is_ignored(r.label, p) {
            return (0.0, l);
        }
        (sparse_loss_row_half(k, r.a, m, s.ln(), r.label as usize, p, &cst), l)
    };
    let small = few::small_kernels(f32::row_kernels(current_isa()), g);
    let lay = small.map(|sk| few::Lay::new(sk, g.classes, p.weight));
    let ce = few::Ce { p, cst: &cst, scale: None };
    drive_leaves(g, par, x, None, None, None::<&[f32]>, Some(labels), Some(loss), Some(lse), |b| match (small, &lay) {
        (Some(sk), Some(lay)) => few::ce_half(sk, k, lay, &ce, b, &row),
        _ => b.run_seq(&row),
    });
}

/// [`ce_sparse_fwd_bwd`] for `f16`/`bf16` logits: `f32` arithmetic, the gradient
/// rounded to `H` (nearest-even). An `f16` gradient underflows to 0 below `6e-8`,
/// as in the frameworks.
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
pub(crate) fn ce_sparse_fwd_bwd_half<H: Half>(
    x: &[H],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, f32>,
    scale: Scale<'_, f32>,
    loss: &mut [f32],
    lse: &mut [f32],
    grad: &mut [H],
    par: Par,
) {
    let k = H::half_kernels(current_isa());
    let nt = use_nt::<H>(g);
    let cst = SparseConsts::new(g, p);
    if let Scale::PerPosition(s) = scale {
        check("scale", s.len(), g.positions());
    }
    let row = |r: Row<'_, H, f32>| {
        let out = r.out.expect("grad");
        let (m, s) = (k.max_sum_exp)(r.a);
        let l = lse_from(m, s, r.a.len());
        if is_ignored(r.label, p) {
            out.fill(H::default());
            return (0.0, l);
        }
        let (y, ls) = (r.label as usize, s.ln());
        let v = sparse_loss_row_half(k, r.a, m, ls, y, p, &cst);
        let t = sparse_grad_terms(p, &cst, m, ls, y, scale.at(r.pos));
        (k.sparse_grad)(r.a, out, &t, wr_for(g, nt, r.a));
        (v, l)
    };
    let cached = |r: Row<'_, H, f32>, e: &mut [f32], mb: &mut [f32]| {
        let out = r.out.expect("grad");
        let (m, s) = (k.max_sum_exp_store)(r.a, e, mb, nt);
        let l = lse_from(m, s, r.a.len());
        if is_ignored(r.label, p) {
            out.fill(H::default());
            return (0.0, l);
        }
        let (y, ls) = (r.label as usize, s.ln());
        let v = sparse_loss_row_half(k, r.a, m, ls, y, p, &cst);
        let t = sparse_grad_terms(p, &cst, m, ls, y, scale.at(r.pos));
        (k.grad_from_exp)(e, out, mb, &t, wr_for(g, nt, r.a));
        (v, l)
    };
    let small = few::small_kernels(f32::row_kernels(current_isa()), g);
    let lay = small.map(|sk| few::Lay::new(sk, g.classes, p.weight));
    let ce = few::Ce { p, cst: &cst, scale: Some(scale) };
    drive_leaves(g, par, x, None, Some(grad), None::<&[f32]>, Some(labels), Some(loss), Some(lse), |b| match (small, &lay) {
        (Some(sk), Some(lay)) => few::ce_half(sk, k, lay, &ce, b, &row),
        _ => run_cached(b, g.classes, &row, &cached),
    });
}

/// [`ce_sparse_fwd_bwd_in_place`] for `f16`/`bf16` logits (`f32` arithmetic).
#[allow(clippy::too_many_arguments)] // every buffer of the fused loss is explicit
pub(crate) fn ce_sparse_fwd_bwd_half_in_place<H: Half>(
    x: &mut [H],
    g: Geom,
    labels: &[i64],
    p: &SparseCe<'_, f32>,
    scale: Scale<'_, f32>,
    loss: &mut [f32],
    lse: &mut [f32],
    par: Par,
) {
    let k = H::half_kernels(current_isa());
    let cst = SparseConsts::new(g, p);
    if let Scale::PerPosition(s) = scale {
        check("scale", s.len(), g.positions());
    }
    let row = |r: RowMut<'_, H>| {
        let (m, s) = (k.max_sum_exp)(r.a);
        let l = lse_from(m, s, r.a.len());
        if is_ignored(r.label, p) {
            r.a.fill(H::default());
            return (0.0, l);
        }
        let (y, ls) = (r.label as usize, s.ln());
        let v = sparse_loss_row_half(k, r.a, m, ls, y, p, &cst);
        let t = sparse_grad_terms(p, &cst, m, ls, y, scale.at(r.pos));
        (k.sparse_grad_in_place)(r.a, &t);
        (v, l)
    };
    let cached = |r: RowMut<'_, H>, e: &mut [f32], mb: &mut [f32]| {
        let (m, s) = (k.max_sum_exp_store)(r.a, e, mb, true);
        let l = lse_from(m, s, r.a.len());
        if is_ignored(r.label, p) {
            r.a.fill(H::default());
            return (0.0, l);
        }
        let (y, ls) = (r.label as usize, s.ln());
        let v = sparse_loss_row_half(k, r.a, m, ls, y, p, &cst);
        let t = sparse_grad_terms(p, &cst, m, ls, y, scale.at(r.pos));
        let wr = wr_for(g, false, r.a);
        (k.grad_from_exp)(e, r.a, mb, &t, wr);
        (v, l)
    };
    let small = few::small_kernels(f32::row_kernels(current_isa()), g);
    let lay = small.map(|sk| few::Lay::new(sk, g.classes, p.weight));
    let ce = few::Ce { p, cst: &cst, scale: Some(scale) };
    drive_in_place_leaves(g, par, x, Some(labels), Some(loss), Some(lse), |b| match (small, &lay) {
        (Some(sk), Some(lay)) => few::ce_half_in_place(sk, k, lay, &ce, b, &row),
        _ => run_cached_mut(b, g.classes, &row, &cached),
    });
}

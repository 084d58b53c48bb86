//! Instruction-set selection: which row kernels a call runs.
//!
//! Every public kernel picks its row kernels once, on the calling thread, from
//! [`current_isa`]: the thread's [`with_isa`] override if one is active, otherwise the
//! process default, which is the best ISA this CPU supports ([`Isa::detect`]) unless
//! the environment variable `XENT_ISA` (`scalar`, `avx2` or `avx512`) asks for a lesser
//! one. The choice is then carried into the worker threads with the kernel table, so
//! forcing an ISA on the calling thread governs the whole parallel call.
//!
//! Tests use [`with_isa`] to run each SIMD path explicitly: on a machine with AVX-512
//! the default dispatch would never exercise the AVX2 or scalar paths.

use std::cell::Cell;
use std::sync::OnceLock;

/// An instruction set the row kernels are compiled for.
///
/// `Scalar` is portable Rust and the reference the SIMD paths are tested against.
/// `Avx2` needs AVX2, FMA and F16C; `Avx512` needs AVX-512 F, BW and VL (plus the
/// AVX2 set). `f32`, `f64` and the half-precision inputs (which accumulate in `f32`)
/// have SIMD kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Isa {
    /// Portable scalar code.
    Scalar,
    /// x86-64 AVX2 + FMA (8 `f32` lanes).
    Avx2,
    /// x86-64 AVX-512 F/BW/VL (16 `f32` lanes).
    Avx512,
}

impl Isa {
    /// Every ISA, from the least to the most capable.
    pub const ALL: [Isa; 3] = [Isa::Scalar, Isa::Avx2, Isa::Avx512];

    /// The most capable ISA this CPU supports (run-time detection, cached).
    ///
    /// ```
    /// use xent::kernels::Isa;
    /// assert!(Isa::detect().is_available());
    /// ```
    pub fn detect() -> Isa {
        static BEST: OnceLock<Isa> = OnceLock::new();
        *BEST.get_or_init(|| Isa::ALL.into_iter().rev().find(|i| i.is_available()).unwrap_or(Isa::Scalar))
    }

    /// The ISAs this CPU supports, `Scalar` first.
    ///
    /// ```
    /// use xent::kernels::Isa;
    /// assert_eq!(Isa::available()[0], Isa::Scalar);
    /// ```
    pub fn available() -> Vec<Isa> {
        Isa::ALL.into_iter().filter(|i| i.is_available()).collect()
    }

    /// Whether this CPU can run the kernels of `self`.
    ///
    /// ```
    /// assert!(xent::kernels::Isa::Scalar.is_available());
    /// ```
    pub fn is_available(self) -> bool {
        match self {
            Isa::Scalar => true,
            Isa::Avx2 => has_avx2(),
            Isa::Avx512 => has_avx512(),
        }
    }

    /// Lower-case name: `scalar`, `avx2`, `avx512`.
    ///
    /// ```
    /// assert_eq!(xent::kernels::Isa::Avx512.name(), "avx512");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// Parse [`Isa::name`]; `None` for anything else.
    ///
    /// ```
    /// use xent::kernels::Isa;
    /// assert_eq!(Isa::from_name("AVX2"), Some(Isa::Avx2));
    /// assert_eq!(Isa::from_name("neon"), None);
    /// ```
    pub fn from_name(s: &str) -> Option<Isa> {
        Isa::ALL.into_iter().find(|i| i.name().eq_ignore_ascii_case(s))
    }
}

#[cfg(target_arch = "x86_64")]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("f16c")
}

#[cfg(target_arch = "x86_64")]
fn has_avx512() -> bool {
    has_avx2()
        && std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512vl")
}

#[cfg(not(target_arch = "x86_64"))]
fn has_avx2() -> bool {
    false
}

#[cfg(not(target_arch = "x86_64"))]
fn has_avx512() -> bool {
    false
}

/// The process default: [`Isa::detect`], lowered by `XENT_ISA` if it names an
/// available ISA (an unknown or unavailable name is ignored).
///
/// ```
/// assert!(xent::kernels::default_isa().is_available());
/// ```
pub fn default_isa() -> Isa {
    static DEFAULT: OnceLock<Isa> = OnceLock::new();
    *DEFAULT.get_or_init(|| {
        let best = Isa::detect();
        match std::env::var("XENT_ISA").ok().and_then(|s| Isa::from_name(&s)) {
            Some(i) if i.is_available() && i <= best => i,
            _ => best,
        }
    })
}

thread_local! {
    static FORCED: Cell<Option<Isa>> = const { Cell::new(None) };
}

/// The ISA a kernel called now on this thread runs: the innermost [`with_isa`]
/// override, or [`default_isa`].
///
/// ```
/// use xent::kernels::{current_isa, with_isa, Isa};
/// assert_eq!(with_isa(Isa::Scalar, current_isa), Isa::Scalar);
/// ```
pub fn current_isa() -> Isa {
    FORCED.with(|f| f.get()).unwrap_or_else(default_isa)
}

/// Run `f` with every kernel called from this thread (and the worker threads those
/// calls use) on `isa`. Overrides nest; the previous choice is restored when `f`
/// returns or panics.
///
/// # Panics
/// If this CPU does not support `isa` (see [`Isa::available`]).
///
/// # Example
/// ```
/// use xent::kernels::{checked::softmax, with_isa, Geom, Isa, Par};
/// let x = [1.0f32, 2.0, 3.0];
/// let mut out = Vec::new();
/// for isa in Isa::available() {
///     let mut y = [0.0f32; 3];
///     with_isa(isa, || softmax(&x, Geom::rows(1, 3), &mut y, Par::Seq)).unwrap();
///     out.push(y);
/// }
/// // every ISA agrees with the scalar path to a few ulps
/// for y in &out {
///     for (a, b) in y.iter().zip(&out[0]) {
///         assert!((a - b).abs() <= 4.0 * f32::EPSILON);
///     }
/// }
/// ```
pub fn with_isa<R>(isa: Isa, f: impl FnOnce() -> R) -> R {
    assert!(isa.is_available(), "xent: ISA {} is not supported by this CPU", isa.name());
    struct Restore(Option<Isa>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FORCED.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(FORCED.with(|c| c.replace(Some(isa))));
    f()
}

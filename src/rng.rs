//! A small deterministic random number generator for the demo and the trainer.
//!
//! [`SplitMix64`] is Steele, Lea & Flood's SplitMix64 ("Fast splittable pseudorandom
//! number generators", OOPSLA 2014), the generator Java's `SplittableRandom` uses and
//! the one Vigna recommends for seeding xoshiro: a Weyl sequence
//! `state += 0x9E3779B97F4A7C15` passed through a 64-bit finaliser. It has a period of
//! 2^64, passes BigCrush, needs no dependency, and gives the same stream on every
//! platform, so `xent demo --seed N` and `xent train --seed N` are reproducible
//! everywhere. It is not a cryptographic generator.

/// SplitMix64: a 64-bit state, one addition and a mixing function per draw.
///
/// ```
/// use xent::rng::SplitMix64;
/// let mut a = SplitMix64::new(7);
/// let mut b = SplitMix64::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let u = a.next_f64();
/// assert!((0.0..1.0).contains(&u));
/// assert!(a.below(5) < 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose stream is fixed by `seed`.
    ///
    /// ```
    /// use xent::rng::SplitMix64;
    /// let (mut a, mut b) = (SplitMix64::new(1), SplitMix64::new(1));
    /// assert_eq!(a.next_u64(), b.next_u64()); // same seed, same stream
    /// ```
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64 random bits.
    ///
    /// ```
    /// let mut r = xent::rng::SplitMix64::new(0);
    /// assert_ne!(r.next_u64(), r.next_u64());
    /// ```
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float64 in `[0, 1)`: the top 53 bits times `2^-53`, so every value is a
    /// multiple of `2^-53` (NumPy's `random()` does the same).
    ///
    /// ```
    /// let mut r = xent::rng::SplitMix64::new(3);
    /// assert!((0..1000).map(|_| r.next_f64()).all(|u| (0.0..1.0).contains(&u)));
    /// ```
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform float64 in `[lo, hi)`.
    ///
    /// ```
    /// let mut r = xent::rng::SplitMix64::new(3);
    /// assert!((0..1000).map(|_| r.uniform(-2.0, 5.0)).all(|u| (-2.0..5.0).contains(&u)));
    /// ```
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// A uniform integer in `[0, n)`, without bias (Lemire's multiply-shift with
    /// rejection, "Fast random integer generation in an interval", 2019).
    ///
    /// # Panics
    /// If `n == 0` (an empty range is a bug in the caller).
    ///
    /// ```
    /// let mut r = xent::rng::SplitMix64::new(9);
    /// assert!((0..1000).all(|_| r.below(7) < 7));
    /// ```
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "SplitMix64::below(0): empty range");
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        if (m as u64) < n {
            let threshold = n.wrapping_neg() % n;
            while (m as u64) < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
            }
        }
        (m >> 64) as u64
    }

    /// A standard normal sample (Box–Muller, one of the pair; `1 − u` keeps the log finite).
    ///
    /// ```
    /// let mut r = xent::rng::SplitMix64::new(5);
    /// let n = 100_000;
    /// let mean = (0..n).map(|_| r.normal()).sum::<f64>() / n as f64;
    /// assert!(mean.abs() < 0.02); // within ~6 standard errors of 0
    /// ```
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.next_f64();
        let v = self.next_f64();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// A uniform index in `[0, n)`: [`SplitMix64::below`] for `usize`.
    ///
    /// # Panics
    /// If `n == 0`.
    ///
    /// ```
    /// let mut r = xent::rng::SplitMix64::new(2);
    /// let v = [10, 20, 30];
    /// assert!(v.contains(&v[r.index(v.len())]));
    /// ```
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Shuffle `v` in place (Fisher–Yates, drawing with [`SplitMix64::below`]).
    ///
    /// ```
    /// let mut v: Vec<u32> = (0..10).collect();
    /// xent::rng::SplitMix64::new(4).shuffle(&mut v);
    /// let mut s = v.clone();
    /// s.sort();
    /// assert_eq!(s, (0..10).collect::<Vec<_>>()); // a permutation
    /// ```
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_reference_stream() {
        // First outputs of the reference C implementation (Vigna's splitmix64.c) for seed 1234567.
        let mut r = SplitMix64::new(1234567);
        let want = [6457827717110365317u64, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821];
        for w in want {
            assert_eq!(r.next_u64(), w);
        }
    }

    #[test]
    fn below_stays_in_range_and_hits_every_value() {
        let mut r = SplitMix64::new(0);
        let mut seen = [0usize; 5];
        for _ in 0..1000 {
            seen[r.below(5) as usize] += 1;
        }
        assert!(seen.iter().all(|&c| c > 150), "{seen:?}");
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut r = SplitMix64::new(3);
        let mut v: Vec<usize> = (0..50).collect();
        r.shuffle(&mut v);
        let mut s = v.clone();
        s.sort_unstable();
        assert_eq!(s, (0..50).collect::<Vec<_>>());
        assert_ne!(v, s);
    }
}

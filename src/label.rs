//! Class labels of any integer type.

/// An integer class label: `u8`, `u16`, `u32`, `u64`, `usize`, `i8`, `i16`, `i32` or
/// `i64` (candle's `argmax` gives `u32`, PyTorch's targets are `i64`, datasets often
/// store `u8`). The functions that take labels of any type convert them once to `i64`
/// and check them there: a value that does not fit in `i64` becomes `i64::MAX` and is
/// reported as out of range.
///
/// ```
/// use xent::Label;
/// assert_eq!(7u8.to_i64(), 7);
/// assert_eq!((-100i32).to_i64(), -100);
/// assert_eq!(u64::MAX.to_i64(), i64::MAX); // out of every class range
/// ```
pub trait Label: Copy + Send + Sync + 'static {
    /// The label as `i64` (saturating).
    fn to_i64(self) -> i64;
}

macro_rules! label_from {
    ($($t:ty),*) => {$(
        impl Label for $t {
            #[inline]
            fn to_i64(self) -> i64 {
                i64::from(self)
            }
        }
    )*};
}
label_from!(u8, u16, u32, i8, i16, i32, i64);

macro_rules! label_try {
    ($($t:ty),*) => {$(
        impl Label for $t {
            #[inline]
            fn to_i64(self) -> i64 {
                i64::try_from(self).unwrap_or(i64::MAX)
            }
        }
    )*};
}
label_try!(u64, usize);

//! Arrays of any supported dtype, for the op table, the CLI and file I/O.
//!
//! The typed library API works on `ndarray` views of `f32`/`f64`/`i64`; the op table
//! and the command line see inputs whose dtype is only known at run time. [`DynArray`]
//! is that run-time-typed array: one `ndarray::ArrayD` per dtype.

use half::f16;
use ndarray::{ArrayD, ArrayViewD};

use crate::error::{Error, Result};

/// The element types xent reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// IEEE half precision.
    F16,
    /// IEEE single precision.
    F32,
    /// IEEE double precision.
    F64,
    /// Unsigned byte.
    U8,
    /// 32-bit signed integer.
    I32,
    /// 64-bit signed integer.
    I64,
    /// Boolean (one byte, 0 or 1).
    Bool,
}

impl DType {
    /// NumPy's name for the dtype (`float32`, `int64`, ...).
    ///
    /// ```
    /// assert_eq!(xent::DType::F32.name(), "float32");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            DType::F16 => "float16",
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::U8 => "uint8",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::Bool => "bool",
        }
    }

    /// Size of one element in bytes.
    ///
    /// ```
    /// assert_eq!(xent::DType::F16.size(), 2);
    /// ```
    pub fn size(self) -> usize {
        match self {
            DType::U8 | DType::Bool => 1,
            DType::F16 => 2,
            DType::F32 | DType::I32 => 4,
            DType::F64 | DType::I64 => 8,
        }
    }

    /// True for the floating-point dtypes.
    ///
    /// ```
    /// assert!(xent::DType::F16.is_float() && !xent::DType::I64.is_float());
    /// ```
    pub fn is_float(self) -> bool {
        matches!(self, DType::F16 | DType::F32 | DType::F64)
    }

    /// True for the integer dtypes (`bool` excluded).
    ///
    /// ```
    /// assert!(xent::DType::U8.is_int() && !xent::DType::Bool.is_int());
    /// ```
    pub fn is_int(self) -> bool {
        matches!(self, DType::U8 | DType::I32 | DType::I64)
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An n-dimensional array whose dtype is known only at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum DynArray {
    /// float16 data.
    F16(ArrayD<f16>),
    /// float32 data.
    F32(ArrayD<f32>),
    /// float64 data.
    F64(ArrayD<f64>),
    /// uint8 data.
    U8(ArrayD<u8>),
    /// int32 data.
    I32(ArrayD<i32>),
    /// int64 data.
    I64(ArrayD<i64>),
    /// bool data.
    Bool(ArrayD<bool>),
}

macro_rules! each {
    ($self:expr, $a:ident => $body:expr) => {
        match $self {
            DynArray::F16($a) => $body,
            DynArray::F32($a) => $body,
            DynArray::F64($a) => $body,
            DynArray::U8($a) => $body,
            DynArray::I32($a) => $body,
            DynArray::I64($a) => $body,
            DynArray::Bool($a) => $body,
        }
    };
}

impl DynArray {
    /// The dtype of the elements.
    ///
    /// ```
    /// let a = xent::DynArray::from(ndarray::ArrayD::<f32>::zeros(ndarray::IxDyn(&[2])));
    /// assert_eq!(a.dtype(), xent::DType::F32);
    /// ```
    pub fn dtype(&self) -> DType {
        match self {
            DynArray::F16(_) => DType::F16,
            DynArray::F32(_) => DType::F32,
            DynArray::F64(_) => DType::F64,
            DynArray::U8(_) => DType::U8,
            DynArray::I32(_) => DType::I32,
            DynArray::I64(_) => DType::I64,
            DynArray::Bool(_) => DType::Bool,
        }
    }

    /// The shape.
    ///
    /// ```
    /// let a = xent::DynArray::from(ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&[2, 3])));
    /// assert_eq!(a.shape(), &[2, 3]);
    /// assert_eq!(a.len(), 6);
    /// assert!(!a.is_empty());
    /// ```
    pub fn shape(&self) -> &[usize] {
        each!(self, a => a.shape())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        each!(self, a => a.len())
    }

    /// True when the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements as `i64`, for label inputs. Integer and bool arrays convert
    /// exactly; float arrays are rejected (use [`DynArray::to_f64`] if you mean it).
    ///
    /// # Errors
    /// [`Error::DType`] naming `input` when the array holds floats.
    ///
    /// ```
    /// use xent::DynArray;
    /// let y = DynArray::I32(ndarray::array![3, -100].into_dyn());
    /// assert_eq!(y.to_i64("op", "target").unwrap(), ndarray::array![3i64, -100].into_dyn());
    /// let x = DynArray::from(ndarray::array![0.5f32].into_dyn());
    /// assert!(x.to_i64("op", "target").is_err());
    /// ```
    pub fn to_i64(&self, op: &str, input: &str) -> Result<ArrayD<i64>> {
        Ok(match self {
            DynArray::U8(a) => a.mapv(i64::from),
            DynArray::I32(a) => a.mapv(i64::from),
            DynArray::I64(a) => a.clone(),
            DynArray::Bool(a) => a.mapv(i64::from),
            other => {
                return Err(Error::DType {
                    op: op.into(),
                    input: input.into(),
                    got: other.dtype().to_string(),
                    expected: "an integer dtype (int32, int64, uint8)".into(),
                })
            }
        })
    }

    /// Every element converted to `f64` (exact for every supported dtype but huge int64).
    ///
    /// ```
    /// let a = xent::DynArray::U8(ndarray::array![1u8, 255].into_dyn());
    /// assert_eq!(a.to_f64(), ndarray::array![1.0, 255.0].into_dyn());
    /// ```
    pub fn to_f64(&self) -> ArrayD<f64> {
        match self {
            DynArray::F16(a) => a.mapv(f64::from),
            DynArray::F32(a) => a.mapv(f64::from),
            DynArray::F64(a) => a.clone(),
            DynArray::U8(a) => a.mapv(f64::from),
            DynArray::I32(a) => a.mapv(f64::from),
            // Precision loss above 2^53 is the documented behaviour of this conversion.
            DynArray::I64(a) => a.mapv(|v| v as f64),
            DynArray::Bool(a) => a.mapv(|v| f64::from(u8::from(v))),
        }
    }

    /// Every element converted to `f32` (rounded to nearest).
    ///
    /// ```
    /// let a = xent::DynArray::F64(ndarray::array![0.1f64].into_dyn());
    /// assert_eq!(a.to_f32()[[0]], 0.1f32);
    /// ```
    pub fn to_f32(&self) -> ArrayD<f32> {
        match self {
            DynArray::F16(a) => a.mapv(f32::from),
            DynArray::F32(a) => a.clone(),
            other => other.to_f64().mapv(|v| v as f32),
        }
    }
}

/// A borrowed [`DynArray`]: a view of any layout into memory someone else owns (a
/// NumPy array handed over by the Python binding, an array of the caller's), so that
/// `registry::eval_views` (feature `registry`) computes without copying its inputs.
#[derive(Debug, Clone)]
pub enum DynView<'a> {
    /// float16 data.
    F16(ArrayViewD<'a, f16>),
    /// float32 data.
    F32(ArrayViewD<'a, f32>),
    /// float64 data.
    F64(ArrayViewD<'a, f64>),
    /// uint8 data.
    U8(ArrayViewD<'a, u8>),
    /// int32 data.
    I32(ArrayViewD<'a, i32>),
    /// int64 data.
    I64(ArrayViewD<'a, i64>),
    /// bool data.
    Bool(ArrayViewD<'a, bool>),
}

impl DynArray {
    /// A borrowed view of the array.
    ///
    /// ```
    /// let a = xent::DynArray::F32(ndarray::ArrayD::zeros(ndarray::IxDyn(&[2, 3])));
    /// assert_eq!(a.view().shape(), &[2, 3]);
    /// ```
    pub fn view(&self) -> DynView<'_> {
        match self {
            DynArray::F16(a) => DynView::F16(a.view()),
            DynArray::F32(a) => DynView::F32(a.view()),
            DynArray::F64(a) => DynView::F64(a.view()),
            DynArray::U8(a) => DynView::U8(a.view()),
            DynArray::I32(a) => DynView::I32(a.view()),
            DynArray::I64(a) => DynView::I64(a.view()),
            DynArray::Bool(a) => DynView::Bool(a.view()),
        }
    }
}

macro_rules! each_view {
    ($self:expr, $a:ident => $body:expr) => {
        match $self {
            DynView::F16($a) => $body,
            DynView::F32($a) => $body,
            DynView::F64($a) => $body,
            DynView::U8($a) => $body,
            DynView::I32($a) => $body,
            DynView::I64($a) => $body,
            DynView::Bool($a) => $body,
        }
    };
}

impl<'a> DynView<'a> {
    /// The same view with a shorter lifetime (`ndarray`'s views are not covariant).
    pub fn reborrow<'b>(self) -> DynView<'b>
    where
        'a: 'b,
    {
        match self {
            DynView::F16(a) => DynView::F16(a.reborrow()),
            DynView::F32(a) => DynView::F32(a.reborrow()),
            DynView::F64(a) => DynView::F64(a.reborrow()),
            DynView::U8(a) => DynView::U8(a.reborrow()),
            DynView::I32(a) => DynView::I32(a.reborrow()),
            DynView::I64(a) => DynView::I64(a.reborrow()),
            DynView::Bool(a) => DynView::Bool(a.reborrow()),
        }
    }

    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        match self {
            DynView::F16(_) => DType::F16,
            DynView::F32(_) => DType::F32,
            DynView::F64(_) => DType::F64,
            DynView::U8(_) => DType::U8,
            DynView::I32(_) => DType::I32,
            DynView::I64(_) => DType::I64,
            DynView::Bool(_) => DType::Bool,
        }
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        each_view!(self, a => a.shape())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        each_view!(self, a => a.len())
    }

    /// True when the view has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An owned copy (in standard layout).
    pub fn to_owned(&self) -> DynArray {
        match self {
            DynView::F16(a) => DynArray::F16(a.to_owned()),
            DynView::F32(a) => DynArray::F32(a.to_owned()),
            DynView::F64(a) => DynArray::F64(a.to_owned()),
            DynView::U8(a) => DynArray::U8(a.to_owned()),
            DynView::I32(a) => DynArray::I32(a.to_owned()),
            DynView::I64(a) => DynArray::I64(a.to_owned()),
            DynView::Bool(a) => DynArray::Bool(a.to_owned()),
        }
    }

    /// As [`DynArray::to_i64`].
    ///
    /// # Errors
    /// [`Error::DType`] naming `input` when the view holds floats.
    pub fn to_i64(&self, op: &str, input: &str) -> Result<ArrayD<i64>> {
        Ok(match self {
            DynView::U8(a) => a.mapv(i64::from),
            DynView::I32(a) => a.mapv(i64::from),
            DynView::I64(a) => a.to_owned(),
            DynView::Bool(a) => a.mapv(i64::from),
            other => {
                return Err(Error::DType {
                    op: op.into(),
                    input: input.into(),
                    got: other.dtype().to_string(),
                    expected: "an integer dtype (int32, int64, uint8)".into(),
                })
            }
        })
    }

    /// As [`DynArray::to_f64`].
    pub fn to_f64(&self) -> ArrayD<f64> {
        match self {
            DynView::F16(a) => a.mapv(f64::from),
            DynView::F32(a) => a.mapv(f64::from),
            DynView::F64(a) => a.to_owned(),
            DynView::U8(a) => a.mapv(f64::from),
            DynView::I32(a) => a.mapv(f64::from),
            // Precision loss above 2^53 is the documented behaviour of this conversion.
            DynView::I64(a) => a.mapv(|v| v as f64),
            DynView::Bool(a) => a.mapv(|v| f64::from(u8::from(v))),
        }
    }
}

impl From<ArrayD<f32>> for DynArray {
    fn from(a: ArrayD<f32>) -> Self {
        DynArray::F32(a)
    }
}
impl From<ArrayD<f64>> for DynArray {
    fn from(a: ArrayD<f64>) -> Self {
        DynArray::F64(a)
    }
}
impl From<ArrayD<f16>> for DynArray {
    fn from(a: ArrayD<f16>) -> Self {
        DynArray::F16(a)
    }
}
impl From<ArrayD<i64>> for DynArray {
    fn from(a: ArrayD<i64>) -> Self {
        DynArray::I64(a)
    }
}
impl From<ArrayD<i32>> for DynArray {
    fn from(a: ArrayD<i32>) -> Self {
        DynArray::I32(a)
    }
}
impl From<ArrayD<u8>> for DynArray {
    fn from(a: ArrayD<u8>) -> Self {
        DynArray::U8(a)
    }
}
impl From<ArrayD<bool>> for DynArray {
    fn from(a: ArrayD<bool>) -> Self {
        DynArray::Bool(a)
    }
}

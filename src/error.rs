//! The one error type of xent.
//!
//! Every data-dependent failure (shapes that do not fit, labels out of range, a
//! malformed file, an unknown parameter) is an [`Error`] value, never a panic.
//! Each variant carries the names and shapes a user needs to find the problem.

use std::fmt;

/// What went wrong, with the offending input names and shapes.
///
/// The enum is `#[non_exhaustive]`: new failure kinds may be added without a
/// breaking change. [`Error::is_usage`] tells usage mistakes (exit 2 in the CLI)
/// from bad data (exit 1).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two inputs (or an input and what an op expects) have incompatible shapes.
    #[error("{op}: {msg}")]
    Shape {
        /// The op that rejected the shapes.
        op: String,
        /// Which inputs, with their shapes.
        msg: String,
    },
    /// An axis is outside `[-rank, rank)`.
    #[error("{op}: axis {axis} is out of range for input `{input}` of rank {rank} (shape {shape:?})")]
    Axis {
        /// The op.
        op: String,
        /// The input the axis refers to.
        input: String,
        /// The requested axis.
        axis: i64,
        /// The input's rank.
        rank: usize,
        /// The input's shape.
        shape: Vec<usize>,
    },
    /// A class label is outside the valid range.
    #[error("{op}: label {value} at index {index} of `{input}` is outside the valid range [0, {classes}){extra}")]
    Label {
        /// The op.
        op: String,
        /// The label input.
        input: String,
        /// Flat index of the offending label.
        index: usize,
        /// The offending value.
        value: i64,
        /// Number of classes.
        classes: usize,
        /// Any extra explanation (ignore value, framework message).
        extra: String,
    },
    /// A value is outside the domain the framework accepts (e.g. probabilities outside [0, 1]).
    #[error("{op}: {msg}")]
    Domain {
        /// The op.
        op: String,
        /// What is wrong, naming the input.
        msg: String,
    },
    /// An input has a dtype the op does not accept.
    #[error("{op}: input `{input}` has dtype {got}, expected {expected}")]
    DType {
        /// The op.
        op: String,
        /// The input.
        input: String,
        /// Its dtype.
        got: String,
        /// What the op accepts.
        expected: String,
    },
    /// A parameter value is invalid (wrong type, out of range). A usage error.
    #[error("{op}: parameter `{param}`: {msg}")]
    Param {
        /// The op.
        op: String,
        /// The parameter.
        param: String,
        /// What is wrong.
        msg: String,
    },
    /// An unknown op, input or parameter name, or a missing input. A usage error.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written, or is not a valid `.npy`.
    #[error("{path}: {msg}")]
    Io {
        /// The file.
        path: String,
        /// What is wrong with it.
        msg: String,
    },
}

impl Error {
    /// True for mistakes in how xent was called (unknown names, bad parameter values):
    /// the CLI exits 2 for these and 1 for everything else.
    ///
    /// ```
    /// let x = ndarray::array![[0.0f32, 1.0]].into_dyn();
    /// let e = xent::torch::softmax(&x.view(), 2).unwrap_err(); // no dim 2
    /// assert!(e.is_usage());
    /// ```
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Usage(_) | Error::Param { .. } | Error::Axis { .. })
    }

    pub(crate) fn shape(op: &str, msg: impl fmt::Display) -> Error {
        Error::Shape { op: op.to_string(), msg: msg.to_string() }
    }

    pub(crate) fn domain(op: &str, msg: impl fmt::Display) -> Error {
        Error::Domain { op: op.to_string(), msg: msg.to_string() }
    }

    pub(crate) fn param(op: &str, param: &str, msg: impl fmt::Display) -> Error {
        Error::Param { op: op.to_string(), param: param.to_string(), msg: msg.to_string() }
    }
}

/// Shorthand for `Result<T, xent::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

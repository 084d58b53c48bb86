//! `xent._xent`: the compiled half of the Python package `xent`.
//!
//! Two functions over the op table [`xent::registry::OPS`]: `ops()` describes every
//! op (name, doc, inputs, parameters with their JSON defaults, gradients), from which
//! the pure-Python half (`python/xent/__init__.py`) generates `xent.tf`, `xent.keras`
//! and `xent.torch`; `eval(op, inputs, params, grad)` runs one op, as `xent eval`
//! does, on NumPy arrays. No numerics here: the interface converts and delegates.
//!
//! Inputs are read in place: a NumPy array of a supported dtype becomes an
//! `ndarray` view ([`xent::DynView`]) of its buffer, so an input that already has
//! the dtype the op computes in is not copied. The result (owned by Rust) is handed
//! to NumPy without a copy. The GIL is released while xent computes, and a panic
//! (a bug) becomes `xent.Error` instead of taking the interpreter down.

use std::panic::{catch_unwind, AssertUnwindSafe};

use half::f16;
use ndarray::ArrayViewD;
use numpy::{IntoPyArray, PyReadonlyArrayDyn, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::Value;
use xent::registry::{InputKind, ParamKind, ALIASES, OPS, PREFIXES};
use xent::{DynArray, DynView};

pyo3::create_exception!(
    _xent,
    Error,
    PyValueError,
    "Bad data or arguments for an xent op (shapes, labels, dtypes, parameter values); the message is the CLI's."
);

/// A NumPy array borrowed read-only for the duration of one call.
enum Borrowed<'py> {
    F16(PyReadonlyArrayDyn<'py, f16>),
    F32(PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>),
    U8(PyReadonlyArrayDyn<'py, u8>),
    I32(PyReadonlyArrayDyn<'py, i32>),
    I64(PyReadonlyArrayDyn<'py, i64>),
    Bool(PyReadonlyArrayDyn<'py, bool>),
}

impl Borrowed<'_> {
    fn view(&self) -> DynView<'_> {
        match self {
            Borrowed::F16(a) => DynView::F16(tidy(a.as_array())),
            Borrowed::F32(a) => DynView::F32(tidy(a.as_array())),
            Borrowed::F64(a) => DynView::F64(tidy(a.as_array())),
            Borrowed::U8(a) => DynView::U8(tidy(a.as_array())),
            Borrowed::I32(a) => DynView::I32(tidy(a.as_array())),
            Borrowed::I64(a) => DynView::I64(tidy(a.as_array())),
            Borrowed::Bool(a) => DynView::Bool(tidy(a.as_array())),
        }
    }
}

/// An empty view with ndarray's own strides (all zero) instead of NumPy's: ndarray's
/// `mapv` keeps a view's strides, and its constructors reject an empty `(0, 4)` array
/// with strides `(4, 1)` over no data (a debug assertion, seen with the golden cases).
fn tidy<'a, T>(v: ArrayViewD<'a, T>) -> ArrayViewD<'a, T> {
    if v.is_empty() {
        let none: &'a [T] = &[];
        ArrayViewD::from_shape(v.raw_dim(), none).unwrap_or(v)
    } else {
        v
    }
}

/// Borrow `obj` (a NumPy array) as one of the dtypes xent takes.
fn borrow<'py>(op: &str, name: &str, obj: &Bound<'py, PyAny>) -> PyResult<Borrowed<'py>> {
    macro_rules! try_as {
        ($t:ty, $v:ident) => {
            if let Ok(a) = obj.extract::<PyReadonlyArrayDyn<'py, $t>>() {
                return Ok(Borrowed::$v(a));
            }
        };
    }
    try_as!(f32, F32);
    try_as!(f64, F64);
    try_as!(i64, I64);
    try_as!(i32, I32);
    try_as!(u8, U8);
    try_as!(bool, Bool);
    try_as!(f16, F16);
    let got = match obj.cast::<PyUntypedArray>() {
        Ok(a) => format!("dtype {}", a.dtype()),
        Err(_) => format!("type {}", obj.get_type().name().map_or_else(|_| "?".to_string(), |n| n.to_string())),
    };
    Err(Error::new_err(format!(
        "{op}: input `{name}` has {got}, expected a NumPy array of float16, float32, float64, uint8, int32, int64 or bool (native byte order)"
    )))
}

/// Whether the table declares `name` of `op` a list parameter (scikit-learn's `labels`).
fn takes_list(op: &str, name: &str) -> bool {
    xent::registry::find(op).ok().and_then(|o| o.params.iter().find(|p| p.name == name)).is_some_and(|p| p.kind == ParamKind::OptList)
}

/// A Python parameter value as the JSON value the op table takes.
fn param_value(op: &str, name: &str, v: &Bound<'_, PyAny>) -> PyResult<Value> {
    if v.is_none() {
        Ok(Value::Null)
    } else if v.is_instance_of::<PyBool>() {
        Ok(Value::Bool(v.extract()?))
    } else if v.is_instance_of::<PyInt>() {
        match v.extract::<i64>() {
            Ok(i) => Ok(Value::from(i)),
            Err(_) => Err(Error::new_err(format!("{op}: parameter `{name}`: {v} does not fit in a 64-bit integer"))),
        }
    } else if v.is_instance_of::<PyFloat>() {
        let f: f64 = v.extract()?;
        // JSON has no NaN or infinity: a finite value or an error naming the parameter.
        serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| Error::new_err(format!("{op}: parameter `{name}`: got {f}, expected a finite number")))
    } else if v.is_instance_of::<PyString>() {
        Ok(Value::String(v.extract()?))
    } else if (v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>()) && takes_list(op, name) {
        // A list parameter (scikit-learn's `labels`): its items as values.
        let items: Vec<Bound<'_, PyAny>> = v.try_iter()?.collect::<PyResult<_>>()?;
        items.iter().map(|x| param_value(op, name, x)).collect::<PyResult<Vec<Value>>>().map(Value::Array)
    } else {
        Err(PyTypeError::new_err(format!(
            "{op}: parameter `{name}` must be None, a bool, an int, a float or a str (a list where the op takes one), not {}",
            v.get_type().name()?
        )))
    }
}

/// Run one op of the table: its output, or with `grad` the gradient of sum(output)
/// with respect to that input.
///
/// `inputs` maps input names to NumPy arrays (native byte order; any strides);
/// `params` maps parameter names to None/bool/int/float/str. Raises `xent.Error`
/// with the CLI's one-line message for bad data or arguments.
#[pyfunction]
#[pyo3(signature = (op, inputs, params, grad=None, output=None))]
fn eval<'py>(
    py: Python<'py>,
    op: &str,
    inputs: &Bound<'py, PyDict>,
    params: &Bound<'py, PyDict>,
    grad: Option<&str>,
    output: Option<&str>,
) -> PyResult<Bound<'py, PyAny>> {
    let mut borrowed = Vec::with_capacity(inputs.len());
    for (k, v) in inputs.iter() {
        let name: String = k.extract()?;
        let b = borrow(op, &name, &v)?;
        borrowed.push((name, b));
    }
    let mut ps = Vec::with_capacity(params.len());
    for (k, v) in params.iter() {
        let name: String = k.extract()?;
        let value = param_value(op, &name, &v)?;
        ps.push((name, value));
    }
    let views: Vec<(String, DynView<'_>)> = borrowed.iter().map(|(n, b)| (n.clone(), b.view())).collect();
    let out = py.detach(|| catch_unwind(AssertUnwindSafe(|| xent::registry::eval_views_output(op, views, ps, grad, output))));
    match out {
        Ok(Ok(a)) => Ok(to_numpy(py, a)),
        Ok(Err(e)) => Err(Error::new_err(e.to_string())),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            Err(Error::new_err(format!("{op}: internal error (a bug in xent, please report it): {msg}")))
        }
    }
}

/// Hand an owned result to NumPy (no copy).
fn to_numpy(py: Python<'_>, a: DynArray) -> Bound<'_, PyAny> {
    match a {
        DynArray::F16(a) => a.into_pyarray(py).into_any(),
        DynArray::F32(a) => a.into_pyarray(py).into_any(),
        DynArray::F64(a) => a.into_pyarray(py).into_any(),
        DynArray::U8(a) => a.into_pyarray(py).into_any(),
        DynArray::I32(a) => a.into_pyarray(py).into_any(),
        DynArray::I64(a) => a.into_pyarray(py).into_any(),
        DynArray::Bool(a) => a.into_pyarray(py).into_any(),
    }
}

/// The op table: a list of dicts, one per op, with `name`, `doc`, `inputs` (dicts of
/// `name`, `kind` ("Float", "Labels", "Any", ...), `dtypes` for label inputs,
/// `optional`), `params` (dicts of `name`, `kind` ("Bool", "Int", "OptFloat",
/// "Choice", ...), `choices`, `default` as a JSON string), `grad_wrt` and `aliases`
/// (other names of the same framework function, [`xent::registry::ALIASES`]).
#[pyfunction]
fn ops(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let out = PyList::empty(py);
    for o in OPS {
        let d = PyDict::new(py);
        d.set_item("name", o.name)?;
        d.set_item("doc", o.doc)?;
        let inputs = PyList::empty(py);
        for i in o.inputs {
            let e = PyDict::new(py);
            e.set_item("name", i.name)?;
            e.set_item("optional", i.optional)?;
            // The Debug name keeps this working when the table gains a kind.
            match i.kind {
                InputKind::Labels(ds) => {
                    e.set_item("kind", "Labels")?;
                    e.set_item("dtypes", ds.iter().map(|d| d.name()).collect::<Vec<_>>())?;
                }
                other => e.set_item("kind", format!("{other:?}"))?,
            }
            inputs.append(e)?;
        }
        d.set_item("inputs", inputs)?;
        let params = PyList::empty(py);
        for p in o.params {
            let e = PyDict::new(py);
            e.set_item("name", p.name)?;
            e.set_item("default", p.default)?;
            match p.kind {
                ParamKind::Choice(c) => {
                    e.set_item("kind", "Choice")?;
                    e.set_item("choices", c.to_vec())?;
                }
                other => e.set_item("kind", format!("{other:?}"))?,
            }
            params.append(e)?;
        }
        d.set_item("params", params)?;
        d.set_item("grad_wrt", o.grad_wrt.to_vec())?;
        let aliases: Vec<&str> = ALIASES.iter().filter(|(_, c)| *c == o.name).map(|(a, _)| *a).collect();
        d.set_item("aliases", aliases)?;
        out.append(d)?;
    }
    Ok(out)
}

/// The table name of `name`, which may be an alias (`torch.nn.functional.softmax`) or
/// carry a module spelling users write (`F.`, `nn.`, `tf.keras.losses.`).
#[pyfunction]
fn canonical(name: &str) -> String {
    xent::registry::canonical(name)
}

/// The module spellings the table accepts, as (prefix, what it stands for) pairs:
/// `("tf.keras.losses.", "keras.losses.")`.
#[pyfunction]
fn prefixes() -> Vec<(&'static str, &'static str)> {
    PREFIXES.to_vec()
}

/// `xent::explain`: the candidate calls on `labels` and `predictions` (NumPy arrays),
/// matched against the `observed` values. Returns `(json, table)`: the report as the
/// JSON of `xent explain --json`, and the text `xent explain` prints.
#[pyfunction]
#[pyo3(signature = (labels, predictions, sample_weight=None, class_weight=None, observed=Vec::new()))]
fn explain(
    py: Python<'_>,
    labels: &Bound<'_, PyAny>,
    predictions: &Bound<'_, PyAny>,
    sample_weight: Option<&Bound<'_, PyAny>>,
    class_weight: Option<&Bound<'_, PyAny>>,
    observed: Vec<f64>,
) -> PyResult<(String, String)> {
    let op = "explain";
    let own = |name: &str, v: &Bound<'_, PyAny>| -> PyResult<DynArray> { Ok(borrow(op, name, v)?.view().to_owned()) };
    let labels = own("labels", labels)?;
    let predictions = own("predictions", predictions)?;
    let sample_weight = sample_weight.map(|v| own("sample_weight", v)).transpose()?;
    let class_weight = class_weight.map(|v| own("class_weight", v)).transpose()?;
    let out = py.detach(|| {
        catch_unwind(AssertUnwindSafe(|| {
            xent::explain::explain(&labels, &predictions, sample_weight.as_ref(), class_weight.as_ref(), &observed)
        }))
    });
    match out {
        Ok(Ok(e)) => Ok((e.to_json().to_string(), e.render())),
        Ok(Err(e)) => Err(Error::new_err(e.to_string())),
        Err(_) => Err(Error::new_err("explain: internal error (a bug in xent, please report it)")),
    }
}

#[pymodule]
fn _xent(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_function(wrap_pyfunction!(eval, m)?)?;
    m.add_function(wrap_pyfunction!(ops, m)?)?;
    m.add_function(wrap_pyfunction!(canonical, m)?)?;
    m.add_function(wrap_pyfunction!(prefixes, m)?)?;
    m.add("Error", m.py().get_type::<Error>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

//! The reference cases computed by TensorFlow 2.21.0 / Keras 3.15.1 and PyTorch 2.15.0
//! (and, in `generated/fw13.jsonl`, by jax 0.10.2 / optax 0.2.8, onnxruntime 1.32.0 and
//! scikit-learn 1.9.1) (`tests/golden/*.jsonl`, copied from the project's shared golden data; the format is
//! described in `shared/tools/conform.py`), run two ways: through the library's op
//! table, and through the built `xent eval` binary on .npy files.

use std::path::{Path, PathBuf};
use std::process::Command;

use ndarray::{ArrayD, IxDyn};
use serde_json::Value;
use xent::DynArray;

/// What one run of the binary should give: the reference (and float64 truth), or an error.
type Expect = Option<(DynArray, Option<DynArray>)>;

/// (gradient input or None, reference, float64 reference, output name or None)
type Target = (Option<String>, DynArray, Option<DynArray>, Option<String>);

struct Case {
    id: String,
    op: String,
    params: Vec<(String, Value)>,
    inputs: Vec<(String, DynArray)>,
    /// (None = output | Some(input) = gradient, reference, float64 reference, the output's
    /// name for the second and later outputs of an op with several (`"outputs"`))
    targets: Vec<Target>,
    error: Option<String>,
    nonfinite_input: bool,
    /// A per-case `{"rtol", "atol"}`: the framework's own value within these bounds,
    /// the float64 truth not accepted instead (flush-to-zero cases).
    tol: Option<(f64, f64)>,
}

fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => match s.as_str() {
            "nan" | "NaN" => f64::NAN,
            "inf" | "Infinity" => f64::INFINITY,
            "-inf" | "-Infinity" => f64::NEG_INFINITY,
            other => other.parse().expect("numeric string"),
        },
        Value::Bool(b) => f64::from(u8::from(*b)),
        v => v.as_f64().expect("number"),
    }
}

fn arr(v: &Value) -> DynArray {
    let shape: Vec<usize> = v["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    let data = v["data"].as_array().unwrap();
    let sh = IxDyn(&shape);
    match v["dtype"].as_str().unwrap() {
        "float32" => DynArray::F32(ArrayD::from_shape_vec(sh, data.iter().map(|x| num(x) as f32).collect()).unwrap()),
        "float64" => DynArray::F64(ArrayD::from_shape_vec(sh, data.iter().map(num).collect()).unwrap()),
        "float16" => DynArray::F16(ArrayD::from_shape_vec(sh, data.iter().map(|x| half::f16::from_f64(num(x))).collect()).unwrap()),
        "int32" => DynArray::I32(ArrayD::from_shape_vec(sh, data.iter().map(|x| x.as_i64().unwrap() as i32).collect()).unwrap()),
        "int64" => DynArray::I64(ArrayD::from_shape_vec(sh, data.iter().map(|x| x.as_i64().unwrap()).collect()).unwrap()),
        "bool" => DynArray::Bool(ArrayD::from_shape_vec(sh, data.iter().map(|x| x.as_bool().unwrap()).collect()).unwrap()),
        d => panic!("dtype {d}"),
    }
}

fn load() -> Vec<Case> {
    let cases = load_files(&["tf.jsonl", "keras.jsonl", "torch.jsonl"]);
    assert_eq!(cases.len(), 131, "the public golden set has 131 cases");
    cases
}

/// Cases made by `tools/gen_differential.py` with the real frameworks (random shapes,
/// axes, negative ones too, dtypes and parameter combinations) and by
/// `tools/gen_differential_edge.py` (NaN/±inf/huge logits, empty batches, all-ignored
/// targets, error cases, one-hot variants).
///
/// Every file under `tests/golden/generated/` is loaded, so a new generated set is one
/// new file (`tools/gen_differential_exact.py` made `exact7.jsonl`: large offsets, zero
/// classes, Keras float16, TF's flush-to-zero, PyTorch's sigmoid overflow).
fn load_generated() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/generated");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jsonl"))
        .map(|n| format!("generated/{n}"))
        .collect();
    files.sort();
    let refs: Vec<&str> = files.iter().map(String::as_str).collect();
    let cases = load_files(&refs);
    assert!(cases.len() >= 3 * 338 + 2 * 219 + 590, "generated cases missing: {}", cases.len());
    cases
}

/// The generated sets of the exactness issue, also run through the binary (the CLI
/// path: .npy files, `--param` parsing, flush-to-zero, output writing):
/// `generated/ops8.jsonl` (`tools/gen_differential_ops8.py`, seed 8: `kl_div`, the
/// `torch.nn` loss classes, Keras' KLDivergence / focal classes, the aliases `F.`,
/// `nn.`, `tf.keras.losses.`, `F.softmax`) and `generated/exact7.jsonl`
/// (`tools/gen_differential_exact.py`, seed 7). The library runs them with every other
/// generated file in [`load_generated`].
fn load_exactness() -> Vec<Case> {
    let cases = load_files(&["generated/ops8.jsonl", "generated/exact7.jsonl"]);
    assert_eq!(cases.len(), 248 + 590);
    cases
}

#[test]
fn exactness_cases_through_the_binary() {
    run_binary(load_exactness(), "exact");
}

/// Issue 12's fused linear cross-entropies (`tools/gen_differential_lce12.py`, seed 12:
/// PyTorch 2.15's `linear_cross_entropy` and cut-cross-entropy 25.1.1), through the
/// binary as well (the library run is `generated_cases_through_the_library`).
#[test]
fn lce12_cases_through_the_binary() {
    let cases = load_files(&["generated/lce12.jsonl"]);
    assert_eq!(cases.len(), 82);
    run_binary(cases, "lce12");
}

/// Cases of issue 13's frameworks made by `tools/gen_differential_fw13.py` (seed 13)
/// with the real jax 0.10.2 / optax 0.2.8, onnxruntime 1.32.0 and scikit-learn 1.9.1:
/// masks, wrapped and out-of-range labels, NaN/±inf, empty inputs, errors, and ONNX's
/// second output (`log_prob`, checked with `--output log_prob`). The library runs them
/// with every other generated file in [`load_generated`].
fn load_fw13() -> Vec<Case> {
    let cases = load_files(&["generated/fw13.jsonl"]);
    assert_eq!(cases.len(), FW13_CASES);
    cases
}

const FW13_CASES: usize = 414;

#[test]
fn fw13_cases_through_the_binary() {
    run_binary(load_fw13(), "fw13");
}

fn load_files(files: &[&str]) -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(dir.join(f)).unwrap().lines() {
            let c: Value = serde_json::from_str(line).unwrap();
            let t64 = c.get("truth64").filter(|t| !t.is_null());
            let mut targets = Vec::new();
            if c.get("error").is_none() {
                targets.push((None, arr(&c["output"]), t64.and_then(|t| t.get("output")).filter(|o| !o.is_null()).map(arr), None));
                for (name, o) in c.get("outputs").and_then(Value::as_object).into_iter().flatten() {
                    let alt = t64.and_then(|t| t.get("outputs")).and_then(|os| os.get(name)).filter(|o| !o.is_null()).map(arr);
                    targets.push((None, arr(o), alt, Some(name.clone())));
                }
                for g in c["grad"].as_array().unwrap() {
                    let g = g.as_str().unwrap();
                    let alt = t64.and_then(|t| t.get("grads")).and_then(|gs| gs.get(g)).filter(|o| !o.is_null()).map(arr);
                    targets.push((Some(g.to_string()), arr(&c["grads"][g]), alt, None));
                }
            }
            let inputs: Vec<(String, DynArray)> = c["inputs"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), arr(v))).collect();
            let nonfinite_input =
                c["inputs"].as_object().unwrap().values().any(|a| a["data"].as_array().unwrap().iter().any(Value::is_string));
            cases.push(Case {
                id: c["id"].as_str().unwrap().to_string(),
                op: c["op"].as_str().unwrap().to_string(),
                params: c["params"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                inputs,
                targets,
                error: c.get("error").map(|e| e.as_str().unwrap().to_string()),
                nonfinite_input,
                tol: c.get("tol").map(|t| (t["rtol"].as_f64().unwrap(), t["atol"].as_f64().unwrap())),
            });
        }
    }
    cases
}

fn close(a: f64, b: f64, dtype: xent::DType, tol: Option<(f64, f64)>) -> bool {
    let (rtol, atol) = tol.unwrap_or(match dtype {
        xent::DType::F64 => (1e-9, 1e-12),
        xent::DType::F16 => (2e-3, 1e-4),
        _ => (1e-5, 1e-6),
    });
    if b.is_nan() {
        return a.is_nan();
    }
    if b.is_infinite() {
        return a == b;
    }
    a.is_finite() && (a - b).abs() <= atol + rtol * b.abs()
}

/// `None` when `got` matches `want` (or the float64 truth) as conform.py decides.
fn compare(got: &DynArray, want: &DynArray, alt: Option<&DynArray>, lenient_nan: bool, tol: Option<(f64, f64)>) -> Option<String> {
    if got.shape() != want.shape() {
        return Some(format!("shape {:?}, expected {:?}", got.shape(), want.shape()));
    }
    if got.dtype() != want.dtype() {
        return Some(format!("dtype {}, expected {}", got.dtype(), want.dtype()));
    }
    let (g, w) = (got.to_f64(), want.to_f64());
    // The float64 truth flattened once (indexing an iterator per element is quadratic).
    let a: Option<Vec<f64>> = alt.map(|a| a.to_f64().iter().copied().collect());
    for (i, (&x, &y)) in g.iter().zip(w.iter()).enumerate() {
        let ok = close(x, y, want.dtype(), tol)
            || (tol.is_none() && a.as_ref().is_some_and(|a| close(x, a[i], want.dtype(), None)))
            || (lenient_nan && x.is_nan());
        if !ok {
            return Some(format!("element {i}: got {x}, expected {y}"));
        }
    }
    None
}

#[test]
fn golden_cases_through_the_library() {
    run_library(load());
}

#[test]
fn generated_cases_through_the_library() {
    run_library(load_generated());
}

fn run_library(cases: Vec<Case>) {
    let mut failures = Vec::new();
    for c in cases {
        if let Some(err) = &c.error {
            if let Ok(v) = xent::registry::eval(&c.op, c.inputs.clone(), c.params.clone(), None) {
                failures.push(format!("{}: expected an error ({err}), got {:?}", c.id, v.shape()));
            }
            continue;
        }
        for (grad, want, alt, oname) in &c.targets {
            match xent::registry::eval_output(&c.op, c.inputs.clone(), c.params.clone(), grad.as_deref(), oname.as_deref()) {
                Ok(got) => {
                    if let Some(e) = compare(&got, want, alt.as_ref(), c.nonfinite_input, c.tol) {
                        failures.push(format!("{} ({}): {e}", c.id, grad.as_deref().or(oname.as_deref()).unwrap_or("output")));
                    }
                }
                Err(e) => failures.push(format!("{}: {e}", c.id)),
            }
        }
    }
    assert!(failures.is_empty(), "{} golden failures:\n{}", failures.len(), failures.join("\n"));
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("xent-golden-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn golden_cases_through_the_binary() {
    run_binary(load(), "bin");
}

fn run_binary(cases: Vec<Case>, tag: &str) {
    let bin = env!("CARGO_BIN_EXE_xent");
    let dir = tmpdir(tag);
    let mut failures = Vec::new();
    for c in cases {
        let mut base = vec!["eval".to_string(), c.op.clone()];
        for (name, a) in &c.inputs {
            let p = dir.join(format!("{name}.npy"));
            xent::npy::write(&p, a).unwrap();
            base.push("--input".into());
            base.push(format!("{name}={}", p.display()));
        }
        for (k, v) in &c.params {
            base.push("--param".into());
            base.push(format!("{k}={v}"));
        }
        let out = dir.join("out.npy");
        let runs: Vec<(Option<String>, Expect, Option<String>)> = if c.error.is_some() {
            vec![(None, None, None)]
        } else {
            c.targets.iter().map(|(g, w, a, o)| (g.clone(), Some((w.clone(), a.clone())), o.clone())).collect()
        };
        for (grad, want, oname) in runs {
            let _ = std::fs::remove_file(&out);
            let mut args = base.clone();
            if let Some(g) = &grad {
                args.extend(["--grad".to_string(), g.clone()]);
            }
            if let Some(o) = &oname {
                args.extend(["--output".to_string(), o.clone()]);
            }
            args.extend(["-o".to_string(), out.display().to_string()]);
            let p = Command::new(bin).args(&args).output().unwrap();
            let stderr = String::from_utf8_lossy(&p.stderr);
            match want {
                None => {
                    let code = p.status.code();
                    if !matches!(code, Some(1) | Some(2)) || stderr.contains("panicked") || stderr.trim().is_empty() || out.exists() {
                        failures.push(format!("{}: error case gave exit {code:?}, stderr {stderr:?}, output left: {}", c.id, out.exists()));
                    }
                    if stderr.trim().lines().count() != 1 {
                        failures.push(format!("{}: error message should be one line, got {stderr:?}", c.id));
                    }
                }
                Some((w, a)) => {
                    if !p.status.success() {
                        failures.push(format!("{}: exit {:?}: {stderr}", c.id, p.status.code()));
                        continue;
                    }
                    let got = xent::npy::read(&out).unwrap();
                    if let Some(e) = compare(&got, &w, a.as_ref(), c.nonfinite_input, c.tol) {
                        failures.push(format!("{} ({}): {e}", c.id, grad.as_deref().or(oname.as_deref()).unwrap_or("output")));
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{} golden failures:\n{}", failures.len(), failures.join("\n"));
}

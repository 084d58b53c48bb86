//! Hostile use of the `xent eval` binary: bad arguments exit 2 with a hint, bad data
//! exits 1 naming the offending input, index and value, bad output paths exit 1,
//! and in every failure the inputs are untouched and no output (nor temporary file)
//! is left behind. No run may end in a panic (exit 101) or a signal.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray::{ArrayD, IxDyn};
use xent::DynArray;

const BIN: &str = env!("CARGO_BIN_EXE_xent");

/// A fresh directory for one test, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("xent-hostile-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    /// Write `a` as NAME.npy and return its path.
    fn npy(&self, name: &str, a: DynArray) -> PathBuf {
        let p = self.path(&format!("{name}.npy"));
        xent::npy::write(&p, &a).unwrap();
        p
    }
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn f32s(shape: &[usize], v: &[f32]) -> DynArray {
    DynArray::F32(ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap())
}
fn f64s(shape: &[usize], v: &[f64]) -> DynArray {
    DynArray::F64(ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap())
}
fn i64s(shape: &[usize], v: &[i64]) -> DynArray {
    DynArray::I64(ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap())
}
fn i32s(shape: &[usize], v: &[i32]) -> DynArray {
    DynArray::I32(ArrayD::from_shape_vec(IxDyn(shape), v.to_vec()).unwrap())
}

fn logits() -> DynArray {
    f32s(&[2, 3], &[2.0, 1.0, 0.1, 0.5, 2.5, 0.3])
}

fn xent(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Run `xent eval` and return (exit code, stderr), checking the invariants of any
/// failure: a clean exit code (never a panic or a signal), one line on stderr, no
/// output file, no temporary file left in the output's directory, inputs untouched.
fn eval_fails(args: &[String], out: &Path, inputs: &[&Path]) -> (i32, String) {
    let before: Vec<Vec<u8>> = inputs.iter().map(|p| fs::read(p).unwrap()).collect();
    let existed = out.exists();
    let o = Command::new(BIN).args(args).output().unwrap();
    let err = stderr(&o);
    let code = o.status.code().unwrap_or_else(|| panic!("killed by a signal: {:?}\n{err}", o.status));
    assert!(code == 1 || code == 2, "exit {code}, expected 1 or 2: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line expected: {err:?}");
    assert!(err.starts_with("xent: error: ") || err.starts_with("error: "), "{err:?}");
    if !existed {
        assert!(!out.exists(), "an output was left at {}", out.display());
    }
    if let Some(dir) = out.parent().filter(|d| d.is_dir()) {
        let tmp: Vec<_> =
            fs::read_dir(dir).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().contains(".tmp-")).collect();
        assert!(tmp.is_empty(), "temporary files left: {tmp:?}");
    }
    for (p, b) in inputs.iter().zip(before) {
        assert_eq!(fs::read(p).unwrap(), b, "input {} changed", p.display());
    }
    (code, err)
}

fn args(op: &str, inputs: &[(&str, &Path)], params: &[&str], grad: Option<&str>, out: &Path) -> Vec<String> {
    let mut v = vec!["eval".to_string(), op.to_string()];
    for (n, p) in inputs {
        v.push("--input".into());
        v.push(format!("{n}={}", p.display()));
    }
    for p in params {
        v.push("--param".into());
        v.push(p.to_string());
    }
    if let Some(g) = grad {
        v.push("--grad".into());
        v.push(g.into());
    }
    v.push("-o".into());
    v.push(out.display().to_string());
    v
}

// ------------------------------------------------------------------ arguments: exit 2

/// A build without the `mpi` feature names what `--shard-classes` needs (tests/mpi.rs
/// runs it under mpirun in a build with the feature).
#[cfg(not(feature = "mpi"))]
#[test]
fn shard_classes_needs_the_mpi_feature() {
    let d = Dir::new("shard");
    let (x, y) = (d.npy("x", logits()), d.npy("y", i64s(&[2], &[0, 2])));
    let out = d.path("out.npy");
    let mut a = args("torch.nn.functional.cross_entropy", &[("input", &x), ("target", &y)], &[], None, &out);
    a.push("--shard-classes".into());
    let (code, err) = eval_fails(&a, &out, &[&x, &y]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--shard-classes needs xent built with `--features mpi`"), "{err}");
}

#[test]
fn usage_mistakes_exit_2_with_a_hint() {
    let d = Dir::new("usage");
    let x = d.npy("x", logits());
    let y = d.npy("y", i64s(&[2], &[0, 2]));
    let out = d.path("out.npy");
    let ce = "torch.nn.functional.cross_entropy";
    let both: [(&str, &Path); 2] = [("input", &x), ("target", &y)];
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            args("torch.nn.functional.cross_entropi", &both, &[], None, &out),
            "unknown op `torch.nn.functional.cross_entropi` (did you mean `torch.nn.functional.cross_entropy`?)",
        ),
        (args("tf.nn.sofmax", &[("logits", &x)], &[], None, &out), "did you mean `tf.nn.softmax`"),
        (args(ce, &both, &["reduktion=sum"], None, &out), "unknown parameter `reduktion` (did you mean `reduction`?)"),
        (args("tf.nn.softmax", &[("logits", &x)], &["axsi=0"], None, &out), "unknown parameter `axsi` (did you mean `axis`?)"),
        (args("tf.math.sigmoid", &[("x", &x)], &["axis=0"], None, &out), "unknown parameter `axis`; it takes none"),
        (args(ce, &both, &["reduction=sum", "reduction=mean"], None, &out), "parameter `reduction` given more than once"),
        (args("tf.nn.softmax", &[("logits", &x)], &["axis=abc"], None, &out), "parameter `axis`: got \"abc\", expected an integer"),
        (args("tf.nn.softmax", &[("logits", &x)], &["axis=1.5"], None, &out), "parameter `axis`: got 1.5, expected an integer"),
        (args(ce, &both, &["reduction=avg"], None, &out), "parameter `reduction`: got \"avg\", expected one of none, mean, sum"),
        (args(ce, &both, &["label_smoothing=true"], None, &out), "parameter `label_smoothing`: got true, expected a number"),
        (
            args("keras.losses.categorical_crossentropy", &[("y_true", &x), ("y_pred", &x)], &["from_logits=1"], None, &out),
            "parameter `from_logits`: got 1, expected true or false",
        ),
        // PyTorch rejects label_smoothing > 1 (after reading the data, still a usage error).
        (args(ce, &both, &["label_smoothing=2"], None, &out), "parameter `label_smoothing`: must be between 0.0 and 1.0. Got: 2"),
        // Axis out of range for the data's rank.
        (
            args("tf.nn.softmax", &[("logits", &x)], &["axis=2"], None, &out),
            "axis 2 is out of range for input `logits` of rank 2 (shape [2, 3])",
        ),
        (args("tf.nn.log_softmax", &[("logits", &x)], &["axis=-3"], None, &out), "axis -3 is out of range"),
        (args("torch.softmax", &[("input", &x)], &["dim=9223372036854775807"], None, &out), "axis 9223372036854775807 is out of range"),
        (
            args("keras.losses.binary_crossentropy", &[("y_true", &x), ("y_pred", &x)], &["axis=-9223372036854775808"], None, &out),
            "is out of range",
        ),
        // Inputs: missing, unknown (with a hint), repeated.
        (args(ce, &[("input", &x)], &[], None, &out), "missing input `target`; inputs are: input, target, weight (optional)"),
        (args(ce, &[("input", &x), ("target", &y), ("targte", &y)], &[], None, &out), "unknown input `targte` (did you mean `target`?)"),
        (args("tf.nn.softmax", &[("logit", &x)], &[], None, &out), "unknown input `logit` (did you mean `logits`?)"),
        (args(ce, &[("input", &x), ("target", &y), ("input", &x)], &[], None, &out), "input `input` given more than once"),
        // --grad: unknown name (with a hint), an input without a gradient.
        (args(ce, &both, &[], Some("inptu"), &out), "unknown input `inptu` for --grad (did you mean `input`?)"),
        (args(ce, &both, &[], Some("target"), &out), "no gradient with respect to `target`; gradients are available for: input"),
        (args("tf.one_hot", &[("indices", &y)], &["depth=3"], Some("indices"), &out), "gradients are available for: none"),
        // A required parameter without a default.
        (args("tf.one_hot", &[("indices", &y)], &[], None, &out), "parameter `depth` is required"),
    ];
    for (a, needle) in cases {
        let (code, err) = eval_fails(&a, &out, &[&x, &y]);
        assert_eq!(code, 2, "{a:?}: {err}");
        assert!(err.contains(needle), "{a:?}:\n{err}\ndoes not contain {needle:?}");
    }
}

#[test]
fn odd_argument_bytes_exit_2() {
    use std::os::unix::ffi::OsStrExt;
    let d = Dir::new("odd");
    let x = d.npy("x", logits());
    let out = d.path("out.npy");
    let xs = format!("logits={}", x.display());
    let o = out.display().to_string();
    // A parameter nested 100000 deep (serde_json stops at 128: a bare string, the wrong type).
    let deep = format!("axis={}", "[".repeat(100_000));
    let p = xent(&["eval", "tf.nn.softmax", "--input", &xs, "--param", &deep, "-o", &o]);
    assert_eq!(p.status.code(), Some(2), "{}", stderr(&p));
    assert!(stderr(&p).contains("parameter `axis`: got \"[[[["), "{}", stderr(&p));
    assert!(stderr(&p).contains("... (100002 characters), expected an integer"), "{}", stderr(&p));
    assert!(stderr(&p).len() < 300);
    // Very long names are cut in messages.
    let long = "x".repeat(100_000);
    let long_in = format!("{long}={}", x.display());
    for a in [
        vec!["eval", long.as_str(), "--input", &xs, "-o", &o],
        vec!["eval", "tf.nn.softmax", "--input", &long_in, "-o", &o],
        vec!["eval", "tf.nn.softmax", "--input", &long, "-o", &o],
    ] {
        let p = xent(&a);
        assert_eq!(p.status.code(), Some(2), "{}", stderr(&p));
        assert!(stderr(&p).contains("xxx... (100000 characters)"), "{}", stderr(&p));
        assert!(stderr(&p).len() < 400, "{}", stderr(&p).len());
    }
    // Arguments that are not UTF-8.
    let bad = std::ffi::OsStr::from_bytes(b"tf.nn.soft\xffmax");
    let p = Command::new(BIN).arg("eval").arg(bad).args(["--input", &xs, "-o", &o]).output().unwrap();
    assert_eq!(p.status.code(), Some(2), "{}", stderr(&p));
    assert!(!stderr(&p).contains("panicked"));
    assert!(!out.exists());
}

#[test]
fn malformed_flags_exit_2() {
    let d = Dir::new("flags");
    let x = d.npy("x", logits());
    let out = d.path("out.npy");
    let xs = format!("logits={}", x.display());
    let o = out.display().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["eval", "tf.nn.softmax", "--input", "logits", "-o", &o], "--input `logits` must look like NAME=VALUE"),
        (vec!["eval", "tf.nn.softmax", "--input", "=x.npy", "-o", &o], "--input `=x.npy` must look like NAME=VALUE"),
        (vec!["eval", "tf.nn.softmax", "--input", &xs, "--param", "axis", "-o", &o], "--param `axis` must look like NAME=VALUE"),
        // clap's own errors: -o without its value, an unknown flag, a bad --threads.
        (vec!["eval", "tf.nn.softmax", "--input", &xs, "-o"], "--out"),
        (vec!["eval", "tf.nn.softmax", "--input", &xs, "--frobnicate", "-o", &o], "--frobnicate"),
        (vec!["eval", "tf.nn.softmax", "--input", &xs, "--threads", "many", "-o", &o], "many"),
        (vec!["evaluate"], "evaluate"),
    ];
    for (a, needle) in cases {
        let before = fs::read(&x).unwrap();
        let p = xent(&a);
        let err = stderr(&p);
        assert_eq!(p.status.code(), Some(2), "{a:?}: {err}");
        assert!(err.contains(needle), "{a:?}: {err}");
        assert!(!err.contains("panicked"));
        assert!(!out.exists());
        assert_eq!(fs::read(&x).unwrap(), before);
    }
}

// ------------------------------------------------------------------ labels: exit 1

#[test]
fn bad_labels_exit_1_naming_index_and_value() {
    let d = Dir::new("labels");
    let x = d.npy("x", logits());
    let out = d.path("out.npy");
    let tf_sparse = "tf.nn.sparse_softmax_cross_entropy_with_logits";
    let ks = "keras.losses.sparse_categorical_crossentropy";
    let kc = "keras.losses.SparseCategoricalCrossentropy";
    let ce = "torch.nn.functional.cross_entropy";
    let nll = "torch.nn.functional.nll_loss";
    /// (op, prediction input or "", label input, labels, params, expected message)
    type LabelCase = (&'static str, &'static str, &'static str, DynArray, Vec<&'static str>, &'static str);
    let cases: Vec<LabelCase> = vec![
        // TF sparse: int32/int64 in [0, C); CPU raises, naming the index.
        (tf_sparse, "logits", "labels", i64s(&[2], &[0, 3]), vec![], "label 3 at index 1 of `labels` is outside the valid range [0, 3)"),
        (tf_sparse, "logits", "labels", i32s(&[2], &[-1, 0]), vec![], "label -1 at index 0 of `labels` is outside the valid range [0, 3)"),
        (tf_sparse, "logits", "labels", i64s(&[2], &[0, i64::MIN]), vec![], "label -9223372036854775808 at index 1"),
        (tf_sparse, "logits", "labels", f32s(&[2], &[0.0, 1.0]), vec![], "input `labels` has dtype float32, expected int32 or int64"),
        (tf_sparse, "logits", "labels", DynArray::U8(ArrayD::from_elem(IxDyn(&[2]), 1)), vec![], "input `labels` has dtype uint8, expected int32 or int64"),
        // Keras: float labels are cast like Keras (truncation), but NaN/inf are not class indices.
        (ks, "y_pred", "y_true", f32s(&[2], &[0.0, f32::NAN]), vec![], "`y_true` element 1 is NaN, which is not a class index"),
        (ks, "y_pred", "y_true", f64s(&[2], &[f64::INFINITY, 0.0]), vec![], "`y_true` element 0 is inf, which is not a class index"),
        (ks, "y_pred", "y_true", f64s(&[2], &[1e300, 0.0]), vec![], "`y_true` element 0 is 1e300, which is not a class index"),
        (ks, "y_pred", "y_true", f64s(&[2], &[0.0, 3.5]), vec![], "label 3 at index 1 of `y_true` is outside the valid range [0, 3)"),
        (ks, "y_pred", "y_true", i64s(&[2], &[-2, 0]), vec!["ignore_class=-1"], "label -2 at index 0 of `y_true` is outside the valid range [0, 3) (and is not the ignore_class -1)"),
        (kc, "y_pred", "y_true", i64s(&[2, 1], &[0, 7]), vec![], "label 7 at index 1 of `y_true`"),
        // PyTorch: int64 (or uint8) indices in [0, C) or ignore_index.
        (ce, "input", "target", i64s(&[2], &[0, 3]), vec![], "label 3 at index 1 of `target` is outside the valid range [0, 3) (and is not the ignore value -100)"),
        (ce, "input", "target", i64s(&[2], &[-5, 0]), vec![], "label -5 at index 0 of `target`"),
        (ce, "input", "target", i64s(&[2], &[-100, 9]), vec!["reduction=none"], "label 9 at index 1"),
        (ce, "input", "target", i32s(&[2], &[0, 1]), vec![], "input `target` has dtype int32, expected int64 (Long) class indices or float probabilities"),
        (ce, "input", "target", f32s(&[2], &[0.0, 1.0]), vec![], "input `target` has dtype float32, expected int64 class indices (a float target must be class probabilities of the input's shape [2, 3], got [2])"),
        (nll, "input", "target", i64s(&[2], &[0, 3]), vec![], "label 3 at index 1 of `target`"),
        (nll, "input", "target", f64s(&[2], &[0.0, 1.5]), vec![], "input `target` has dtype float64, expected int64 or uint8"),
        ("torch.nn.functional.one_hot", "", "input", i64s(&[3], &[0, -1, 2]), vec![], "Class values must be non-negative: `input` element 1 is -1"),
        ("torch.nn.functional.one_hot", "", "input", i64s(&[3], &[0, 5, 2]), vec!["num_classes=3"], "Class values must be smaller than num_classes (3): `input` element 1 is 5"),
        ("torch.nn.functional.one_hot", "", "input", i32s(&[1], &[0]), vec![], "input `input` has dtype int32, expected int64"),
        ("tf.one_hot", "", "indices", f32s(&[1], &[0.0]), vec!["depth=3"], "input `indices` has dtype float32, expected uint8 or int32 or int64"),
        // Probabilities outside [0, 1] where PyTorch checks them.
        ("torch.nn.functional.binary_cross_entropy", "target", "input", f32s(&[2, 3], &[0.5, 0.5, 1.5, 0.5, 0.5, 0.5]), vec![], "all elements of `input` should be between 0 and 1; element 2 is 1.5"),
        ("torch.nn.functional.binary_cross_entropy", "target", "input", f32s(&[2, 3], &[0.5, f32::NAN, 0.5, 0.5, 0.5, 0.5]), vec![], "element 1 is NaN"),
    ];
    for (op, xname, lname, labels, params, needle) in cases {
        let l = d.npy("labels", labels);
        let mut ins: Vec<(&str, &Path)> = vec![(lname, &l)];
        if !xname.is_empty() {
            ins.insert(0, (xname, &x));
        }
        let (code, err) = eval_fails(&args(op, &ins, &params, None, &out), &out, &[&x, &l]);
        assert_eq!(code, 1, "{op} {needle}: {err}");
        assert!(err.contains(needle), "{op}:\n{err}\ndoes not contain {needle:?}");
        assert!(err.starts_with(&format!("xent: error: {op}: ")), "{err}");
    }
}

#[test]
fn keras_truncates_float_labels_like_keras() {
    // tf.cast(float -> int64) truncates toward zero: 1.9 -> 1, -0.5 -> 0.
    let d = Dir::new("trunc");
    let p = d.npy("p", f64s(&[2, 3], &[0.2, 0.3, 0.5, 0.1, 0.6, 0.3]));
    let yf = d.npy("yf", f64s(&[2], &[1.9, -0.5]));
    let yi = d.npy("yi", i64s(&[2], &[1, 0]));
    let (a, b) = (d.path("a.npy"), d.path("b.npy"));
    for (y, out) in [(&yf, &a), (&yi, &b)] {
        let o = Command::new(BIN)
            .args(args("keras.losses.sparse_categorical_crossentropy", &[("y_true", y), ("y_pred", &p)], &[], None, out))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let got = xent::npy::read(&a).unwrap();
    assert_eq!(got, xent::npy::read(&b).unwrap());
    let DynArray::F64(v) = got else { panic!() };
    assert!((v[[0]] + 0.3f64.ln()).abs() < 1e-12 && (v[[1]] + 0.1f64.ln()).abs() < 1e-12, "{v}");
}

#[test]
fn tf_one_hot_gives_off_rows_for_out_of_range_indices() {
    // TF never raises here: -1 and 3 (depth 3) give rows of off_value.
    let d = Dir::new("onehot");
    let y = d.npy("y", i64s(&[3], &[-1, 1, 3]));
    let out = d.path("out.npy");
    let o = Command::new(BIN).args(args("tf.one_hot", &[("indices", &y)], &["depth=3"], None, &out)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(xent::npy::read(&out).unwrap(), f32s(&[3, 3], &[0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0]));
}

#[test]
fn absurd_sizes_fail_cleanly() {
    let d = Dir::new("absurd");
    let y = d.npy("y", i64s(&[2], &[0, 1]));
    let big = d.npy("big", i64s(&[1], &[i64::MAX]));
    let out = d.path("out.npy");
    // A depth that no machine can allocate: exit 1 naming the shape, no abort.
    let (code, err) = eval_fails(&args("tf.one_hot", &[("indices", &y)], &["depth=1000000000000000"], None, &out), &out, &[&y]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the output of shape [2, 1000000000000000] would need"), "{err}");
    let (code, err) = eval_fails(&args("torch.nn.functional.one_hot", &[("input", &big)], &[], None, &out), &out, &[&big]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("too large"), "{err}");
    // A 128-byte file declaring shape (2^40, 0): the per-row losses cannot be allocated.
    let e = d.npy("e", DynArray::F32(ArrayD::from_shape_vec(IxDyn(&[1 << 40, 0]), vec![]).unwrap()));
    let (code, err) =
        eval_fails(&args("tf.nn.softmax_cross_entropy_with_logits", &[("labels", &e), ("logits", &e)], &[], None, &out), &out, &[&e]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("the loss of shape [1099511627776] would need 4398046511104 bytes"), "{err}");
    // ...while an op whose output is as empty as its input just works, at once.
    let o = Command::new(BIN).args(args("tf.nn.softmax", &[("logits", &e)], &[], None, &out)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(xent::npy::read(&out).unwrap().shape(), &[1 << 40, 0]);
}

// ------------------------------------------------------------------ files: exit 1

#[test]
fn unreadable_inputs_exit_1_naming_the_path() {
    let d = Dir::new("inputs");
    let x = d.npy("x", logits());
    let out = d.path("out.npy");
    let missing = d.path("missing.npy");
    let (code, err) = eval_fails(&args("tf.nn.softmax", &[("logits", &missing)], &[], None, &out), &out, &[]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("{}: cannot read input `logits`: ", missing.display())), "{err}");
    // A directory, a FIFO (opening it would block forever), a device (never ends).
    let fifo = d.path("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for p in [d.0.clone(), fifo.clone(), PathBuf::from("/dev/zero")] {
        let (code, err) = eval_fails(&args("tf.nn.softmax", &[("logits", &p)], &[], None, &out), &out, &[]);
        assert_eq!(code, 1);
        assert!(err.contains(&format!("{}: input `logits` is not a regular file", p.display())), "{err}");
    }
    // Not a .npy file, and a truncated one.
    let junk = d.path("junk.npy");
    fs::write(&junk, b"PK\x03\x04 a zip file").unwrap();
    let (code, err) = eval_fails(&args("tf.nn.softmax", &[("logits", &junk)], &[], None, &out), &out, &[&junk]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("{}: not a .npy file (bad magic bytes)", junk.display())), "{err}");
    let cut = d.path("cut.npy");
    let bytes = fs::read(&x).unwrap();
    fs::write(&cut, &bytes[..bytes.len() - 1]).unwrap();
    let (code, err) = eval_fails(&args("tf.nn.softmax", &[("logits", &cut)], &[], None, &out), &out, &[&cut]);
    assert_eq!(code, 1);
    assert!(err.contains("truncated data: shape (2, 3) float32 needs 24 bytes, file has 23"), "{err}");
}

#[test]
fn unwritable_outputs_exit_1_leaving_nothing() {
    let d = Dir::new("outputs");
    let x = d.npy("x", logits());
    let file = d.npy("file", logits());
    let sub = d.path("sub");
    fs::create_dir(&sub).unwrap();
    fs::write(sub.join("keep"), b"k").unwrap();
    let fifo = d.path("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let cases: Vec<(PathBuf, &str)> = vec![
        (d.path("no/such/dir/out.npy"), "cannot write into directory"),
        // The parent is a regular file (root can write anywhere, but not there).
        (file.join("out.npy"), "not a directory"),
        // A directory: never replaced (a FIFO is written through: tests/output.rs).
        (sub.clone(), "exists and is not a regular file"),
        // procfs refuses new files, even to root (and nothing under /proc is renamed over).
        (PathBuf::from("/proc/xent-hostile-out.npy"), "cannot create a temporary file"),
        // Paths that do not name a file.
        (PathBuf::from("/"), "does not name a file"),
        (d.0.join(".."), "does not name a file"),
    ];
    for (out, needle) in cases {
        let before = d.entries();
        let (code, err) = eval_fails(&args("tf.nn.softmax", &[("logits", &x)], &[], None, &out), &out, &[&x, &file]);
        assert_eq!(code, 1, "{}: {err}", out.display());
        assert!(err.contains(needle), "{}: {err}", out.display());
        assert_eq!(d.entries(), before, "{}", out.display());
    }
    assert!(sub.is_dir() && fs::read(sub.join("keep")).unwrap() == b"k");
    // A FIFO is written through, but only once the result is ready: a run that fails
    // does not open it (which would wait for a reader), and it stays a FIFO.
    let (code, err) = eval_fails(&args("tf.nn.softmax", &[("logits", &x)], &["axis=9"], None, &fifo), &fifo, &[&x]);
    assert_eq!(code, 2, "{err}");
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo_like());
}

trait FifoLike {
    fn is_fifo_like(&self) -> bool;
}
impl FifoLike for fs::FileType {
    fn is_fifo_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_fifo()
    }
}

#[test]
fn the_output_may_not_be_an_input() {
    let d = Dir::new("same");
    let x = d.npy("x", logits());
    let y = d.npy("y", i64s(&[2], &[0, 2]));
    let link = d.path("link.npy");
    std::os::unix::fs::symlink(&x, &link).unwrap();
    let ce = "torch.nn.functional.cross_entropy";
    let rel = PathBuf::from(format!("{}/../{}/x.npy", d.0.display(), d.0.file_name().unwrap().to_string_lossy()));
    for out in [x.clone(), link.clone(), rel, y.clone()] {
        let (code, err) = eval_fails(&args(ce, &[("input", &x), ("target", &y)], &[], None, &out), &out, &[&x, &y]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("refusing to overwrite an input"), "{err}");
    }
    // A hard link to an input is a different name for it: the output replaces the
    // name (a new file), the input keeps its bytes.
    let hard = d.path("hard.npy");
    fs::hard_link(&x, &hard).unwrap();
    let before = fs::read(&x).unwrap();
    let o = Command::new(BIN).args(args(ce, &[("input", &x), ("target", &y)], &[], None, &hard)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fs::read(&x).unwrap(), before);
    assert_eq!(xent::npy::read(&hard).unwrap().shape(), &[] as &[usize]);
}

/// A 64 KiB tmpfs, unmounted on drop; `None` where mounting is not allowed.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: PathBuf) -> Option<Tmpfs> {
        fs::create_dir_all(&at).ok()?;
        let ok = Command::new("mount").args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"]).arg(&at).output().ok()?.status.success();
        if ok {
            Some(Tmpfs(at))
        } else {
            let _ = fs::remove_dir(&at);
            None
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = fs::remove_dir(&self.0);
    }
}

/// A full disk, for real: runs where `mount -t tmpfs` is allowed (root), and says so
/// and passes elsewhere. The failing-writer unit test in `src/npy/tests.rs` covers the
/// same path everywhere.
#[test]
fn full_disk_leaves_inputs_and_directory_as_they_were() {
    let d = Dir::new("full");
    let Some(fsys) = Tmpfs::mount(d.path("tmpfs")) else {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    };
    // 40 KiB of input on the 64 KiB file system; the 40 KiB output does not fit.
    let x = fsys.0.join("x.npy");
    let n = 10_000;
    xent::npy::write(&x, &f32s(&[100, n / 100], &vec![0.25; n])).unwrap();
    let out = fsys.0.join("out.npy");
    let (code, err) = eval_fails(&args("tf.nn.softmax", &[("logits", &x)], &[], None, &out), &out, &[&x]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("{}: cannot write: ", out.display())), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    let names: Vec<String> = fs::read_dir(&fsys.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["x.npy"]);
    // An existing output is left exactly as it was.
    fs::write(&out, b"old").unwrap();
    let (code, _) = eval_fails(&args("tf.nn.softmax", &[("logits", &x)], &[], None, &out), &out, &[&x]);
    assert_eq!(code, 1);
    assert_eq!(fs::read(&out).unwrap(), b"old");
    // A small output still fits: the file system works.
    let small = fsys.0.join("small.npy");
    let s = fsys.0.join("s.npy");
    xent::npy::write(&s, &logits()).unwrap();
    let o = Command::new(BIN).args(args("tf.nn.softmax", &[("logits", &s)], &[], None, &small)).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

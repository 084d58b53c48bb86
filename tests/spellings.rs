//! The names and literals users copy from their Python code (issue 8, item 7): module
//! prefixes (`F.`, `nn.`, `tf.keras.losses.`), aliases (`torch.nn.functional.softmax`),
//! the loss classes, Python's `True`/`False`/`None` in `--param`, and a tensor given as
//! a `--param` (refused with a hint naming `--input`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray::{ArrayD, IxDyn};
use serde_json::{json, Value};
use xent::registry::{check, eval, find};
use xent::DynArray;

const BIN: &str = env!("CARGO_BIN_EXE_xent");

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("xent-spellings-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn npy(&self, name: &str, a: &DynArray) -> PathBuf {
        let p = self.0.join(format!("{name}.npy"));
        xent::npy::write(&p, a).unwrap();
        p
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

fn x() -> DynArray {
    f32s(&[2, 3], &[2.0, 1.0, 0.1, 0.5, 2.5, 0.3])
}

fn y() -> DynArray {
    DynArray::I64(ArrayD::from_shape_vec(IxDyn(&[2]), vec![0, 2]).unwrap())
}

/// `xent eval OP` with `--input NAME=FILE` and `--param` strings, output to stdout as .npy.
fn run(op: &str, inputs: &[(&str, &Path)], params: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.args(["eval", op]);
    for (n, p) in inputs {
        c.arg("--input").arg(format!("{n}={}", p.display()));
    }
    for p in params {
        c.args(["--param", p]);
    }
    c.args(["-o", "-"]).output().unwrap()
}

fn value(o: &Output) -> DynArray {
    assert!(o.status.success(), "exit {:?}: {}", o.status.code(), String::from_utf8_lossy(&o.stderr));
    xent::npy::from_bytes(&o.stdout, "stdout").unwrap()
}

fn lib(op: &str, inputs: Vec<(&str, DynArray)>, params: Vec<(&str, Value)>) -> DynArray {
    eval(
        op,
        inputs.into_iter().map(|(n, a)| (n.to_string(), a)).collect(),
        params.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        None,
    )
    .unwrap()
}

#[test]
fn prefixes_and_aliases_resolve_to_the_table_names() {
    for (typed, name) in [
        ("F.cross_entropy", "torch.nn.functional.cross_entropy"),
        ("F.kl_div", "torch.nn.functional.kl_div"),
        ("nn.CrossEntropyLoss", "torch.nn.CrossEntropyLoss"),
        ("nn.functional.nll_loss", "torch.nn.functional.nll_loss"),
        ("torch.nn.functional.softmax", "torch.softmax"),
        ("torch.nn.functional.log_softmax", "torch.log_softmax"),
        ("F.softmax", "torch.softmax"),
        ("F.log_softmax", "torch.log_softmax"),
        ("F.sigmoid", "torch.sigmoid"),
        ("tf.keras.losses.CategoricalCrossentropy", "keras.losses.CategoricalCrossentropy"),
        ("tf.keras.losses.kl_divergence", "keras.losses.kl_divergence"),
        ("tf.nn.sigmoid", "tf.math.sigmoid"),
        ("tf.math.softmax", "tf.nn.softmax"),
    ] {
        assert_eq!(find(typed).unwrap().name, name, "{typed}");
    }
    // A misspelling under a prefix is suggested in full.
    let e = find("F.cross_entropi").unwrap_err().to_string();
    assert!(e.contains("unknown op `F.cross_entropi`") && e.contains("did you mean `torch.nn.functional.cross_entropy`"), "{e}");
    assert!(find("G.softmax").is_err());
}

#[test]
fn the_issue_spellings_run_through_the_binary() {
    let d = Dir::new("bin");
    let (xp, yp) = (d.npy("x", &x()), d.npy("y", &y()));
    let want = lib("torch.nn.functional.cross_entropy", vec![("input", x()), ("target", y())], vec![]);
    for op in ["F.cross_entropy", "torch.nn.CrossEntropyLoss", "nn.CrossEntropyLoss"] {
        assert_eq!(value(&run(op, &[("input", &xp), ("target", &yp)], &[])), want, "{op}");
    }
    // torch.nn.functional.softmax(x, dim=1) and F.log_softmax
    let sm = lib("torch.softmax", vec![("input", x())], vec![("dim", json!(1))]);
    assert_eq!(value(&run("torch.nn.functional.softmax", &[("input", &xp)], &["dim=1"])), sm);
    let lsm = lib("torch.log_softmax", vec![("input", x())], vec![("dim", json!(-1))]);
    assert_eq!(value(&run("F.log_softmax", &[("input", &xp)], &["dim=-1"])), lsm);
    // tf.keras.losses.CategoricalCrossentropy(from_logits=True) spelled the Python way
    let t = f32s(&[2, 3], &[1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    let tp = d.npy("t", &t);
    let k = lib("keras.losses.CategoricalCrossentropy", vec![("y_true", t.clone()), ("y_pred", x())], vec![("from_logits", json!(true))]);
    let got = value(&run("tf.keras.losses.CategoricalCrossentropy", &[("y_true", &tp), ("y_pred", &xp)], &["from_logits=True"]));
    assert_eq!(got, k);
    // from_logits=False differs (the probabilities path), so the literal was read.
    let f = value(&run("tf.keras.losses.CategoricalCrossentropy", &[("y_true", &tp), ("y_pred", &xp)], &["from_logits=False"]));
    assert_ne!(f, k);
    // reduction=None is Keras' "no reduction"; ignore_class=None the default.
    let n =
        value(&run("keras.losses.CategoricalCrossentropy", &[("y_true", &tp), ("y_pred", &xp)], &["from_logits=True", "reduction=None"]));
    assert_eq!(n.shape(), &[2]);
    let s = value(&run(
        "keras.losses.sparse_categorical_crossentropy",
        &[("y_true", &yp), ("y_pred", &xp)],
        &["from_logits=True", "ignore_class=None"],
    ));
    assert_eq!(s.shape(), &[2]);
    // A Python-quoted string.
    let r = value(&run("nn.CrossEntropyLoss", &[("input", &xp), ("target", &yp)], &["reduction='sum'"]));
    let want = lib("torch.nn.functional.cross_entropy", vec![("input", x()), ("target", y())], vec![("reduction", json!("sum"))]);
    assert_eq!(r, want);
}

#[test]
fn a_tensor_given_as_a_param_is_refused_with_a_hint() {
    let d = Dir::new("hint");
    let (xp, yp) = (d.npy("x", &x()), d.npy("y", &y()));
    let o = run("torch.nn.CrossEntropyLoss", &[("input", &xp), ("target", &yp)], &["weight=[1,2,3]"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--input weight=FILE.npy"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(o.stdout.is_empty());
    // The same check in the library, for every interface.
    for (op, inputs, name) in [
        ("torch.nn.functional.binary_cross_entropy_with_logits", ["input", "target"], "pos_weight"),
        ("nn.BCEWithLogitsLoss", ["input", "target"], "pos_weight"),
        ("keras.losses.BinaryCrossentropy", ["y_true", "y_pred"], "sample_weight"),
        ("torch.nn.functional.cross_entropy", ["input", "target"], "target"),
    ] {
        let e = check(op, &inputs, &[(name.into(), json!([1.0, 2.0]))], None).unwrap_err();
        assert!(e.is_usage() && e.to_string().contains(&format!("--input {name}=FILE.npy")), "{op}: {e}");
    }
    // `weight=None` is Python's "no weight": accepted, the same as leaving it out.
    let w = value(&run("nn.CrossEntropyLoss", &[("input", &xp), ("target", &yp)], &["weight=None"]));
    assert_eq!(w, lib("torch.nn.functional.cross_entropy", vec![("input", x()), ("target", y())], vec![]));
    // A list for a real parameter stays a parameter: checked against its type.
    let e = check("tf.nn.softmax", &["logits"], &[("axis".into(), json!([1]))], None).unwrap_err();
    assert!(matches!(e, xent::Error::Param { .. }) && e.to_string().contains("expected an integer"), "{e}");
    // TF's pos_weight is a number parameter of weighted_cross_entropy_with_logits.
    assert!(check("tf.nn.weighted_cross_entropy_with_logits", &["labels", "logits"], &[("pos_weight".into(), json!(2.0))], None).is_ok());
}

#[test]
fn help_lists_the_aliases_and_the_new_ops() {
    let o = Command::new(BIN).args(["eval", "--help"]).output().unwrap();
    let h = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "`F.X` for `torch.nn.functional.X`",
        "`nn.X` for `torch.nn.X`",
        "`tf.keras.losses.X` for `keras.losses.X`",
        "also: torch.nn.functional.softmax",
        "torch.nn.functional.kl_div",
        "torch.nn.CrossEntropyLoss",
        "torch.nn.KLDivLoss",
        "keras.losses.KLDivergence",
        "keras.losses.BinaryFocalCrossentropy",
        "keras.losses.CategoricalFocalCrossentropy",
        "True, False, None",
        "-o -",
    ] {
        assert!(h.contains(needle), "--help lacks {needle:?}");
    }
}

/// The README's op list names every op of the table and every alias.
#[test]
fn readme_lists_every_op_and_alias() {
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme.find("The ops (each with its gradient").expect("the op list")..];
    let table = section.find("\n|").expect("the op table");
    let section = &section[..table + section[table..].find("\n\n").unwrap_or(section.len() - table)];
    for o in xent::registry::OPS {
        // Keras entries after the first of a row are listed by their last component.
        let short = o.name.rsplit('.').next().unwrap();
        assert!(section.contains(&format!("`{}`", o.name)) || section.contains(&format!("`{short}`")), "README lacks {}", o.name);
    }
    for (alias, _) in xent::registry::ALIASES {
        assert!(section.contains(&format!("`{alias}`")), "README lacks the alias {alias}");
    }
}

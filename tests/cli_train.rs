//! `xent train` through the built binary: JSON output, accuracy bars, CSV input,
//! malformed CSV (exit 1 and one clear line), usage errors (exit 2) and `--plot`.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn xent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xent")).args(args).output().expect("run xent")
}

/// A fresh directory for this test's files.
fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli_train-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn json_ok(args: &[&str]) -> Value {
    let out = xent(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "xent {args:?} failed: {stderr}");
    assert!(stderr.is_empty(), "no progress bar or chatter with --json: {stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    serde_json::from_str(&stdout).expect("valid JSON")
}

fn check_report(j: &Value, epochs: u64) {
    let o = j.as_object().unwrap();
    let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["epochs", "final_loss", "loss_curve", "test_accuracy", "train_accuracy"]);
    assert_eq!(j["epochs"], epochs);
    let curve = j["loss_curve"].as_array().unwrap();
    assert_eq!(curve.len() as u64, epochs);
    assert_eq!(curve.last().unwrap(), &j["final_loss"]);
    assert!(curve.iter().all(|v| v.as_f64().unwrap().is_finite()));
}

#[test]
fn default_iris_run() {
    let j = json_ok(&["train", "--json"]);
    check_report(&j, 200);
    assert!(j["test_accuracy"].as_f64().unwrap() >= 0.9, "{j}");
    assert!(j["train_accuracy"].as_f64().unwrap() >= 0.9);
}

#[test]
fn binary_run() {
    let j = json_ok(&["train", "--binary", "--json"]);
    check_report(&j, 200);
    assert!(j["test_accuracy"].as_f64().unwrap() >= 0.9, "{j}");
}

#[test]
fn hidden_layer_run() {
    let j = json_ok(&["train", "--hidden", "8", "--epochs", "100", "--json"]);
    check_report(&j, 100);
    assert!(j["test_accuracy"].as_f64().unwrap() >= 0.9, "{j}");
}

#[test]
fn text_output_names_the_model_and_the_result() {
    let out = xent(&["train", "--epochs", "20", "--batch-size", "0", "--seed", "3"]);
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains("softmax regression 4 -> 3"), "{s}");
    assert!(s.contains("120 train / 30 test"), "{s}");
    assert!(s.contains("full batch") && s.contains("seed 3"), "{s}");
    assert!(s.contains("final loss") && s.contains("test accuracy"), "{s}");
}

#[test]
fn csv_with_header_and_string_labels_trains() {
    let d = dir("header");
    let mut text = String::from("width,height,kind\n");
    for i in 0..20 {
        let v = f64::from(i) / 10.0;
        text.push_str(&format!("{v},{},small\n{},{},large\n", v + 0.5, v + 3.0, v + 2.0));
    }
    let f = d.join("shapes.csv");
    std::fs::write(&f, text).unwrap();
    let j = json_ok(&["train", "--csv", f.to_str().unwrap(), "--epochs", "50", "--json"]);
    check_report(&j, 50);
    assert_eq!(j["test_accuracy"], 1.0, "separable data: {j}");
    let j = json_ok(&["train", "--csv", f.to_str().unwrap(), "--epochs", "50", "--binary", "--json"]);
    assert_eq!(j["test_accuracy"], 1.0, "{j}");
}

#[test]
fn csv_without_header_and_integer_labels_trains() {
    let d = dir("noheader");
    let f = d.join("ids.csv");
    std::fs::write(&f, "0,0,1\n0.2,0.1,1\n5,5,2\n5.1,4.9,2\n-5,-5,7\n-5.2,-4.8,7\n").unwrap();
    let j = json_ok(&["train", "--csv", f.to_str().unwrap(), "--epochs", "30", "--test-fraction", "0", "--json"]);
    check_report(&j, 30);
    assert!(j["test_accuracy"].is_null(), "no test set: {j}");
    assert_eq!(j["train_accuracy"], 1.0);
}

#[test]
fn malformed_csv_is_exit_1_with_one_clear_line() {
    let d = dir("malformed");
    let cases = [
        ("ragged.csv", "a,b,label\n1,2,x\n3,4,y\n5,6\n", "line 4: expected 3 columns (as on line 1), found 2"),
        ("text.csv", "1,2,x\n3,four,y\n", "line 2, column 2: `four` is not a number"),
        ("single.csv", "a,b,label\n1,2,x\n3,4,x\n", "only one class (`x`)"),
        ("empty.csv", "", "empty file"),
    ];
    for (name, text, want) in cases {
        let f = d.join(name);
        std::fs::write(&f, text).unwrap();
        let out = xent(&["train", "--csv", f.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(out.stdout.is_empty(), "{name}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.starts_with("xent: error: "), "{name}: {err}");
        assert!(err.contains(f.to_str().unwrap()), "{name} names the file: {err}");
        assert!(err.contains(want), "{name}: {err}");
    }
    let out = xent(&["train", "--csv", d.join("missing.csv").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bad_options_are_exit_2() {
    for args in [
        &["train", "--lr", "0"][..],
        &["train", "--lr", "-1"],
        &["train", "--epochs", "0"],
        &["train", "--test-fraction", "1.5"],
        &["train", "--hidden", "0"],
        &["train", "--epochs", "many"],
    ] {
        let out = xent(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn plot_writes_an_svg_atomically() {
    let d = dir("plot");
    let f = d.join("loss.svg");
    std::fs::write(&f, "old").unwrap();
    let j = json_ok(&["train", "--epochs", "40", "--plot", f.to_str().unwrap(), "--json"]);
    check_report(&j, 40);
    let svg = std::fs::read_to_string(&f).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
    assert!(svg.contains("<polyline"));
    assert!(svg.trim_end().ends_with("</svg>"));
    let names: Vec<String> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["loss.svg"], "no temporary file left behind");

    // A plot that cannot be written is a one-line error, exit 1.
    let out = xent(&["train", "--epochs", "2", "--plot", d.join("no/such/dir/x.svg").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stderr).unwrap().lines().count(), 1);
}

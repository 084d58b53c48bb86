//! `xent demo`: the walkthrough's arrays against scalar f64 references, its checks,
//! its JSON shape, determinism, and both languages (library and binary).

use std::process::Command;

use serde_json::Value;
use xent::demo::{run, Lang};

const KEYS: [&str; 15] = [
    "x_int",
    "softmax_int",
    "x",
    "softmax_x",
    "log_of_softmax_x",
    "log_softmax_x",
    "y",
    "y_one_hot",
    "cce_softmax",
    "cce_raw",
    "sce",
    "cce_from_logits",
    "manual_softmax",
    "manual_log_softmax",
    "torch_ce",
];

/// Shape of a nested JSON list (`[]` for a number); panics on ragged lists.
fn shape(v: &Value) -> Vec<usize> {
    match v {
        Value::Array(items) => {
            let inner: Vec<Vec<usize>> = items.iter().map(shape).collect();
            assert!(inner.windows(2).all(|w| w[0] == w[1]), "ragged list {v}");
            let mut s = vec![items.len()];
            s.extend(inner.first().cloned().unwrap_or_default());
            s
        }
        Value::Number(_) => vec![],
        other => panic!("not a number or list: {other}"),
    }
}

fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        Value::Number(n) => vec![n.as_f64().expect("finite")],
        other => panic!("not a number or list: {other}"),
    }
}

fn has_hangul(s: &str) -> bool {
    s.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

/// `tol` for an f64 result of a handful of operations on values of size ~1.
const TOL: f64 = 64.0 * f64::EPSILON;

#[test]
fn every_check_holds_for_seeds_0_to_5() {
    for seed in 0..6 {
        let r = run(seed).unwrap();
        assert_eq!(r.checks.len(), 10);
        for c in &r.checks {
            assert!(c.holds, "seed {seed}: `{}` does not hold (max_abs_diff {})", c.claim, c.max_abs_diff);
            assert!(c.max_abs_diff.is_finite(), "seed {seed}: `{}`", c.claim);
        }
        assert!(r.all_hold());
    }
}

#[test]
fn arrays_match_scalar_references() {
    for seed in 0..6 {
        let r = run(seed).unwrap();
        // The draws.
        assert_eq!(r.x_int.shape(), [3]);
        assert!(r.x_int.iter().all(|&v| v.fract() == 0.0 && (0.0..5.0).contains(&v)));
        assert_eq!(r.x.shape(), [3, 5]);
        assert!(r.x.iter().all(|&v| (0.0..1.0).contains(&v)));
        assert!(r.y.iter().all(|&v| (0..5).contains(&v)));

        // softmax of the integers, in f64 then rounded: float32 softmax is within a few ulps.
        let xi: Vec<f64> = r.x_int.iter().map(|&v| f64::from(v)).collect();
        let m = xi.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = xi.iter().map(|v| (v - m).exp()).sum();
        for (k, &v) in xi.iter().enumerate() {
            let want = (v - m).exp() / z;
            assert!((f64::from(r.softmax_int[k]) - want).abs() <= 4.0 * f64::from(f32::EPSILON) * want.max(1e-3), "seed {seed}");
        }
        let sum32: f32 = r.softmax_int.iter().fold(0.0, |s, &v| s + v);
        assert_eq!(r.softmax_int_sum, sum32);

        for i in 0..3 {
            let row: Vec<f64> = (0..5).map(|j| r.x[[i, j]]).collect();
            let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + row.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            let y = r.y[[i]] as usize;
            for (j, &xj) in row.iter().enumerate() {
                assert!((r.softmax_x[[i, j]] - (xj - lse).exp()).abs() <= TOL);
                assert!((r.log_softmax_x[[i, j]] - (xj - lse)).abs() <= TOL);
                assert!((r.log_of_softmax_x[[i, j]] - (xj - lse)).abs() <= TOL);
                assert_eq!(r.y_one_hot[[i, j]], if j == y { 1.0 } else { 0.0 });
            }
            let ce = lse - row[y];
            assert!((r.sce[[i]] - ce).abs() <= TOL, "seed {seed} row {i}");
            assert!((r.cce_from_logits[[i]] - ce).abs() <= TOL);
            assert!((r.cce_softmax[[i]] - ce).abs() <= TOL);
            assert!((r.manual_log_softmax[[i]] - ce).abs() <= TOL);
            assert!((r.manual_softmax[[i]] + (row[y] - lse).exp()).abs() <= TOL);
            // Keras on raw x: renormalise, clip to [1e-7, 1 - 1e-7], -log.
            let p = (row[y] / row.iter().sum::<f64>()).clamp(1e-7, 1.0 - 1e-7);
            assert!((r.cce_raw[[i]] + p.ln()).abs() <= TOL, "seed {seed} row {i}");
        }
        let mean = r.sce.iter().sum::<f64>() / 3.0;
        assert!((r.torch_ce - mean).abs() <= TOL);

        // The widely spread row: -inf where exp underflows in float32, finite log_softmax.
        // TF flushes the subnormal exp(-100) and exp(-90) to 0: log is -inf there too, as TF prints
        assert_eq!(
            r.log_of_softmax_wide.iter().copied().collect::<Vec<f32>>(),
            [f32::NEG_INFINITY; 4].into_iter().chain([0.0]).collect::<Vec<f32>>()
        );
        assert_eq!(r.log_softmax_wide.iter().copied().collect::<Vec<f32>>(), [-200.0, -110.0, -100.0, -90.0, 0.0]);
    }
}

#[test]
fn json_has_exactly_the_listed_keys_and_shapes() {
    for seed in 0..6 {
        let j = run(seed).unwrap().to_json();
        let top: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(top.len(), 3);
        assert_eq!(j["seed"], seed);
        let arrays = j["arrays"].as_object().unwrap();
        let mut got: Vec<&str> = arrays.keys().map(String::as_str).collect();
        let mut want = KEYS.to_vec();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
        for k in ["x_int", "softmax_int", "y", "cce_softmax", "cce_raw", "sce", "cce_from_logits", "manual_softmax", "manual_log_softmax"] {
            assert_eq!(shape(&arrays[k]), [3], "{k}");
        }
        for k in ["x", "softmax_x", "log_of_softmax_x", "log_softmax_x", "y_one_hot"] {
            assert_eq!(shape(&arrays[k]), [3, 5], "{k}");
        }
        assert_eq!(shape(&arrays["torch_ce"]), Vec::<usize>::new());
        assert!(arrays["y"].as_array().unwrap().iter().all(|v| v.is_i64()), "y is int64");
        for k in KEYS {
            assert!(flat(&arrays[k]).iter().all(|v| v.is_finite()), "{k}");
        }
        let checks = j["checks"].as_array().unwrap();
        assert_eq!(checks.len(), 10);
        for c in checks {
            let o = c.as_object().unwrap();
            assert_eq!(o.len(), 3);
            assert!(o["claim"].is_string());
            assert_eq!(o["holds"], true, "{c}");
            assert!(o["max_abs_diff"].is_f64());
        }
    }
}

#[test]
fn float32_values_survive_json_exactly() {
    let r = run(4).unwrap();
    let j = r.to_json();
    let back: Vec<f32> = flat(&j["arrays"]["softmax_int"]).iter().map(|&v| v as f32).collect();
    assert_eq!(back, r.softmax_int.iter().copied().collect::<Vec<f32>>());
    assert_eq!(flat(&j["arrays"]["x"]), r.x.iter().copied().collect::<Vec<_>>());
}

#[test]
fn same_seed_same_output() {
    for seed in [0, 7, u64::MAX] {
        let (a, b) = (run(seed).unwrap(), run(seed).unwrap());
        assert_eq!(a, b);
        assert_eq!(a.to_json().to_string(), b.to_json().to_string());
        assert_eq!(a.render(Lang::En), b.render(Lang::En));
    }
    assert_ne!(run(0).unwrap().x, run(1).unwrap().x);
}

#[test]
fn english_and_korean_render() {
    let r = run(0).unwrap();
    let en = r.render(Lang::En);
    let ko = r.render(Lang::Ko);
    assert!(!has_hangul(&en));
    assert!(has_hangul(&ko));
    for text in [&en, &ko] {
        for name in ["softmax_int", "log_softmax_x", "cce_raw", "cce_from_logits", "manual_log_softmax", "torch_ce", "-inf"] {
            assert!(text.contains(name), "missing {name}");
        }
        assert_eq!(text.matches("[holds]").count() + text.matches("[성립]").count(), 10);
    }
    assert!(en.contains("All 10 checks hold."));
    assert!(ko.contains("10개 항목이 모두 성립합니다."));
}

fn xent(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xent")).args(args).output().expect("run xent")
}

#[test]
fn cli_json_parses_and_matches_the_library() {
    let out = xent(&["demo", "--seed", "2", "--json"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let j: Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(j["seed"], 2);
    assert_eq!(shape(&j["arrays"]["softmax_x"]), [3, 5]);
    // Compare the text: serde_json's default float parser may be off by an ulp, its printer is exact.
    assert_eq!(stdout.trim_end(), run(2).unwrap().to_json().to_string());
}

#[test]
fn cli_renders_both_languages() {
    let en = xent(&["demo"]);
    assert!(en.status.success());
    let r = run(0).unwrap();
    let expected = r.render(Lang::En) + &xent::explain::demo_section(&r, Lang::En).unwrap();
    assert_eq!(String::from_utf8(en.stdout).unwrap(), expected);
    let ko = xent(&["demo", "--lang", "ko", "--seed", "5"]);
    assert!(ko.status.success());
    let ko = String::from_utf8(ko.stdout).unwrap();
    assert!(has_hangul(&ko));
    // It ends with `xent explain` on its own pair: Keras on raw logits, then the right call.
    let tail = &ko[ko.find("9. 이 숫자에 xent explain 적용").expect("explain section")..];
    assert!(tail.contains("from_logits=False라서"), "{tail}");
    assert!(tail.contains("함정이 없는 올바른 호출"), "{tail}");
    let bad = xent(&["demo", "--lang", "fr"]);
    assert_eq!(bad.status.code(), Some(2));
}

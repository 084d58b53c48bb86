//! `xent::train`: the embedded Iris data, CSV parsing, the split, training to the
//! accuracy bar (softmax, binary, hidden layer) and the SVG plot.

use xent::rng::SplitMix64;
use xent::train::{parse_csv, plot_svg, stratified_split, train, Dataset, Standardizer, TrainOptions};

#[test]
fn iris_is_fishers_data() {
    let d = Dataset::iris();
    assert_eq!(d.features.dim(), (150, 4));
    assert_eq!(d.class_names, ["setosa", "versicolor", "virginica"]);
    assert_eq!(d.feature_names, ["sepal_length", "sepal_width", "petal_length", "petal_width"]);
    for (row, want, class) in
        [(0, [5.1, 3.5, 1.4, 0.2], 0), (50, [7.0, 3.2, 4.7, 1.4], 1), (100, [6.3, 3.3, 6.0, 2.5], 2), (149, [5.9, 3.0, 5.1, 1.8], 2)]
    {
        assert_eq!(d.features.row(row).to_vec(), want, "row {}", row + 1);
        assert_eq!(d.labels[row], class);
    }
    // The two rows where UCI's file differs from Fisher's table.
    assert_eq!(d.features.row(34).to_vec(), [4.9, 3.1, 1.5, 0.2]);
    assert_eq!(d.features.row(37).to_vec(), [4.9, 3.6, 1.4, 0.1]);
    for c in 0..3 {
        assert_eq!(d.labels.iter().filter(|&&l| l == c).count(), 50);
        assert!(d.labels[c * 50..(c + 1) * 50].iter().all(|&l| l == c));
    }
    // Column sums and per-species means as R's `colSums(iris[1:4])` and `aggregate` print them.
    let sums = d.features.sum_axis(ndarray::Axis(0));
    for (got, want) in sums.iter().zip([876.5, 458.6, 563.7, 179.9]) {
        assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    }
    let means = [[5.006, 3.428, 1.462, 0.246], [5.936, 2.770, 4.260, 1.326], [6.588, 2.974, 5.552, 2.026]];
    for (c, want) in means.iter().enumerate() {
        let m = d.features.slice(ndarray::s![c * 50..(c + 1) * 50, ..]).mean_axis(ndarray::Axis(0)).unwrap();
        for (got, w) in m.iter().zip(want) {
            assert!((got - w).abs() < 1e-9, "class {c}: {got} vs {w}");
        }
    }
}

#[test]
fn iris_binary_is_versicolor_vs_virginica() {
    let d = Dataset::iris_binary();
    assert_eq!(d.features.dim(), (100, 4));
    assert_eq!(d.features.row(0).to_vec(), [7.0, 3.2, 4.7, 1.4]);
    assert_eq!(d.labels[..50], [0; 50]);
    assert_eq!(d.labels[50..], [1; 50]);
}

#[test]
fn csv_with_header_and_string_labels() {
    let d = parse_csv("f1, f2 ,\"kind\"\r\n1.5,2,b\r\n\r\n-3,4e1,a\r\n5,6,\"b\"\r\n", "t.csv").unwrap();
    assert_eq!(d.name, "t.csv");
    assert_eq!(d.feature_names, ["f1", "f2"]);
    assert_eq!(d.class_names, ["a", "b"]);
    assert_eq!(d.labels, [1, 0, 1]);
    assert_eq!(d.features, ndarray::array![[1.5, 2.0], [-3.0, 40.0], [5.0, 6.0]]);
}

#[test]
fn csv_without_header_and_integer_labels() {
    let d = parse_csv("1,2,3\n4,5,10\n7,8,3\n", "n.csv").unwrap();
    assert_eq!(d.feature_names, ["x1", "x2"]);
    // Integer ids are ordered numerically (10 after 3), then mapped to 0..C.
    assert_eq!(d.class_names, ["3", "10"]);
    assert_eq!(d.labels, [0, 1, 0]);
    assert_eq!(d.features.dim(), (3, 2));
}

#[test]
fn malformed_csv_errors_name_file_line_and_problem() {
    let cases = [
        ("", "e.csv: empty file: no rows"),
        ("\n  \n", "e.csv: empty file: no rows"),
        ("a,b,c\n", "e.csv: line 1 is a header and there are no data rows"),
        ("1,2,0\n3,4\n", "e.csv: line 2: expected 3 columns (as on line 1), found 2"),
        ("a,b,c\n1,2,0\n3,4,1,5\n", "e.csv: line 3: expected 3 columns (as on line 1), found 4"),
        ("1,2,0\n3,abc,1\n", "e.csv: line 2, column 2: `abc` is not a number"),
        ("1,2,0\n,4,1\n", "e.csv: line 2, column 1: empty field, expected a number"),
        ("1,2,0\n3,inf,1\n", "e.csv: line 2, column 2: `inf` is not a finite number"),
        ("1,2,0\n3,4,\n", "e.csv: line 2, column 3: empty label"),
        ("1,2,cat\n3,4,cat\n", "e.csv: the label column (column 3) has only one class (`cat`); need at least 2 classes"),
        ("7\n8\n", "e.csv: line 1: found 1 column; need at least 2 (one or more features, then the label)"),
    ];
    for (text, want) in cases {
        let e = parse_csv(text, "e.csv").unwrap_err();
        assert_eq!(e.to_string(), want, "input {text:?}");
        assert!(!e.is_usage(), "bad data is exit 1, not 2");
    }
}

#[test]
fn split_is_stratified_and_seeded() {
    let d = Dataset::iris();
    let s = stratified_split(&d.labels, 3, 0.2, &mut SplitMix64::new(0));
    assert_eq!((s.train.len(), s.test.len()), (120, 30));
    for c in 0..3 {
        assert_eq!(s.test.iter().filter(|&&r| d.labels[r] == c).count(), 10);
    }
    let mut all: Vec<usize> = s.train.iter().chain(&s.test).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..150).collect::<Vec<_>>());
    assert_eq!(s, stratified_split(&d.labels, 3, 0.2, &mut SplitMix64::new(0)));
    assert_ne!(s, stratified_split(&d.labels, 3, 0.2, &mut SplitMix64::new(1)));
    // Every class keeps a training row, however large the fraction.
    let tiny = stratified_split(&[0, 1, 1], 2, 0.9, &mut SplitMix64::new(0));
    assert_eq!(tiny.train.len(), 2);
}

#[test]
fn standardizer_uses_training_statistics() {
    let x = ndarray::array![[1.0, 5.0], [3.0, 5.0]];
    let s = Standardizer::fit(&x.view());
    assert_eq!(s.mean.to_vec(), [2.0, 5.0]);
    assert_eq!(s.std.to_vec(), [1.0, 1.0]); // the constant column keeps scale 1
    assert_eq!(s.apply(&x.view()), ndarray::array![[-1.0, 0.0], [1.0, 0.0]]);
}

#[test]
fn default_iris_run_reaches_the_accuracy_bar() {
    let mut seen = 0;
    let r = train(&Dataset::iris(), &TrainOptions::default(), |s| {
        seen += 1;
        assert_eq!(s.epoch, seen);
    })
    .unwrap();
    assert_eq!(seen, 200);
    assert_eq!(r.loss_curve.len(), 200);
    assert_eq!(r.final_loss, *r.loss_curve.last().unwrap());
    assert!(r.test_accuracy.unwrap() >= 0.9, "{:?}", r.test_accuracy);
    assert!(r.train_accuracy >= 0.9);
    // The loss of a 3-class model starts near ln 3 and falls well below it.
    assert!(r.loss_curve[0] < 1.5 && r.final_loss < 0.2, "{} -> {}", r.loss_curve[0], r.final_loss);
    assert!(r.loss_curve.windows(20).all(|w| w[19] < w[0]));
    assert_eq!((r.n_train, r.n_test), (120, 30));
    let j = r.to_json();
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 5);
    for k in ["epochs", "final_loss", "train_accuracy", "test_accuracy", "loss_curve"] {
        assert!(j.get(k).is_some(), "{k}");
    }
    // Same options, same report.
    assert_eq!(r, train(&Dataset::iris(), &TrainOptions::default(), |_| {}).unwrap());
}

#[test]
fn binary_and_hidden_models_reach_the_bar() {
    let opts = TrainOptions { binary: true, ..Default::default() };
    let r = train(&Dataset::iris_binary(), &opts, |_| {}).unwrap();
    assert!(r.test_accuracy.unwrap() >= 0.9, "binary {:?}", r.test_accuracy);
    assert!(r.loss_curve[0] > r.final_loss);
    assert_eq!(r.loss, "torch.nn.functional.binary_cross_entropy_with_logits");

    let opts = TrainOptions { hidden: Some(8), ..Default::default() };
    let r = train(&Dataset::iris(), &opts, |_| {}).unwrap();
    assert!(r.test_accuracy.unwrap() >= 0.9, "hidden {:?}", r.test_accuracy);
    assert_eq!(r.model, "4 -> 8 tanh -> 3 softmax");

    let opts = TrainOptions { hidden: Some(8), binary: true, ..Default::default() };
    let r = train(&Dataset::iris_binary(), &opts, |_| {}).unwrap();
    assert!(r.test_accuracy.unwrap() >= 0.9, "hidden binary {:?}", r.test_accuracy);
}

#[test]
fn full_batch_descent_lowers_the_loss_every_epoch() {
    // With a small enough step, full-batch gradient descent on a convex loss never goes
    // up: a check that the gradient points the right way.
    let opts = TrainOptions { batch_size: 0, epochs: 50, lr: 0.05, ..Default::default() };
    let r = train(&Dataset::iris(), &opts, |_| {}).unwrap();
    assert!(r.loss_curve.windows(2).all(|w| w[1] < w[0]));
}

#[test]
fn bad_options_are_usage_errors() {
    let d = Dataset::iris();
    for opts in [
        TrainOptions { epochs: 0, ..Default::default() },
        TrainOptions { lr: 0.0, ..Default::default() },
        TrainOptions { lr: f64::NAN, ..Default::default() },
        TrainOptions { test_fraction: 1.0, ..Default::default() },
        TrainOptions { hidden: Some(0), ..Default::default() },
        TrainOptions { binary: true, ..Default::default() }, // Iris has 3 classes
    ] {
        let e = train(&d, &opts, |_| {}).unwrap_err();
        assert!(e.is_usage(), "{e}");
    }
    let e = train(&d, &TrainOptions { lr: f64::MAX, epochs: 3, ..Default::default() }, |_| {}).unwrap_err();
    assert!(e.to_string().contains("diverged"), "{e}");
}

#[test]
fn no_test_set_gives_no_test_accuracy() {
    let r = train(&Dataset::iris(), &TrainOptions { test_fraction: 0.0, epochs: 5, ..Default::default() }, |_| {}).unwrap();
    assert_eq!((r.n_train, r.n_test), (150, 0));
    assert_eq!(r.test_accuracy, None);
    assert!(r.to_json()["test_accuracy"].is_null());
}

#[test]
fn svg_plot_has_axes_and_curves() {
    let r = train(&Dataset::iris(), &TrainOptions { epochs: 30, ..Default::default() }, |_| {}).unwrap();
    let svg = plot_svg(&r);
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<polyline").count(), 3);
    let loss_line = svg.lines().find(|l| l.contains("<polyline") && l.contains("#1f77b4")).unwrap();
    assert_eq!(loss_line.matches(',').count(), 30, "one point per epoch");
    for label in [">epoch<", ">training loss<", ">accuracy<"] {
        assert!(svg.contains(label), "{label}");
    }
    assert_eq!(svg.matches("<svg").count(), 1);
    assert_eq!(svg.matches('<').count(), svg.matches('>').count());
}

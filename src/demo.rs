//! `xent demo`: the softmax / cross-entropy experiments, replayed step by step.
//!
//! [`run`] draws a small random problem from a seed (with [`SplitMix64`]: first the
//! three integers of `x_int`, then the fifteen entries of `x` row by row, then the three
//! labels of `y`) and computes every array of the walkthrough with xent's public
//! framework front-ends ([`crate::tf`], [`crate::keras`], [`crate::torch`]); only the
//! "by hand" steps use plain `ndarray` element-wise `ln`, multiply and sum. The
//! [`DemoReport`] it returns holds the arrays and a list of [`Check`]s: each claim of
//! the story, whether it holds on these numbers, and the largest difference behind it.
//! [`DemoReport::render`] writes the walkthrough in English or Korean and
//! [`DemoReport::to_json`] the machine-readable form that is compared against
//! TensorFlow and PyTorch run on the same `x_int`, `x` and `y`.
//!
//! Two arrays "agree" when they differ by at most `16·C·ε·max(1, max|ref|)` (`C = 5`
//! classes, `ε` the machine epsilon of the dtype): the paths compared round
//! differently (`lse − x` against `−log(p / Σp)`), so equality is up to rounding,
//! never bit-for-bit.

use ndarray::{ArrayD, Axis, IxDyn, Zip};
use serde_json::{json, Map, Value};

use crate::error::Result;
use crate::rng::SplitMix64;
use crate::torch::{CrossEntropyArgs, Target};
use crate::{keras, tf, torch};

/// Number of classes in the demo.
pub const CLASSES: usize = 5;
/// Rows (batch size) of the demo.
pub const ROWS: usize = 3;
/// The widely spread float32 logits of step 3: `softmax` underflows to 0 for the
/// first entries, so `log(softmax)` is `−inf` there while `log_softmax` stays finite.
pub const WIDE: [f32; 5] = [-100.0, -10.0, 0.0, 10.0, 100.0];

/// The keys of the `arrays` object of [`DemoReport::to_json`], in order.
pub const ARRAY_KEYS: [&str; 15] = [
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

/// Language of [`DemoReport::render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Korean.
    Ko,
}

/// One claim of the walkthrough, checked on the demo's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The claim in English (also the `claim` of the JSON output).
    pub claim: &'static str,
    /// The same claim in Korean.
    pub claim_ko: &'static str,
    /// Whether it holds on these numbers.
    pub holds: bool,
    /// The largest absolute difference between the two arrays the claim compares
    /// (for the `−inf` claim: over the entries where both are finite). Always finite.
    pub max_abs_diff: f64,
}

/// Every array of the walkthrough, and the checks of its conclusions.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoReport {
    /// The seed everything was drawn from.
    pub seed: u64,
    /// Step 1: three random integers in `[0, 5)` as float32, shape `[3]`.
    pub x_int: ArrayD<f32>,
    /// `tf.nn.softmax(x_int)`.
    pub softmax_int: ArrayD<f32>,
    /// `softmax_int` summed left to right in float32.
    pub softmax_int_sum: f32,
    /// Step 2: uniform `[0, 1)` float64 logits, shape `[3, 5]`.
    pub x: ArrayD<f64>,
    /// `tf.nn.softmax(x)`.
    pub softmax_x: ArrayD<f64>,
    /// Each row of `softmax_x` summed, shape `[3]`.
    pub softmax_x_row_sums: ArrayD<f64>,
    /// Step 3: `tf.math.log(tf.nn.softmax(x))`.
    pub log_of_softmax_x: ArrayD<f64>,
    /// `tf.nn.log_softmax(x)`.
    pub log_softmax_x: ArrayD<f64>,
    /// The widely spread float32 row [`WIDE`].
    pub wide: ArrayD<f32>,
    /// `log(tf.nn.softmax(wide))` as TF computes it (subnormal results flushed to 0):
    /// `[−inf, −inf, −inf, −inf, 0]`.
    pub log_of_softmax_wide: ArrayD<f32>,
    /// `tf.nn.log_softmax(wide)`: finite.
    pub log_softmax_wide: ArrayD<f32>,
    /// Step 4: three random labels in `[0, 5)`, int64.
    pub y: ArrayD<i64>,
    /// `tf.one_hot(y, 5, dtype=float64)`.
    pub y_one_hot: ArrayD<f64>,
    /// Step 5: `keras.losses.categorical_crossentropy(y_one_hot, softmax(x))`.
    pub cce_softmax: ArrayD<f64>,
    /// `keras.losses.categorical_crossentropy(y_one_hot, x)`: logits mistaken for probabilities.
    pub cce_raw: ArrayD<f64>,
    /// Step 6: `tf.nn.softmax_cross_entropy_with_logits(y_one_hot, x)`.
    pub sce: ArrayD<f64>,
    /// `keras.losses.categorical_crossentropy(y_one_hot, x, from_logits=True)`.
    pub cce_from_logits: ArrayD<f64>,
    /// Step 7: `reduce_sum(−softmax(x)·y_one_hot, −1)`.
    pub manual_softmax: ArrayD<f64>,
    /// `reduce_sum(−log_softmax(x)·y_one_hot, −1)`.
    pub manual_log_softmax: ArrayD<f64>,
    /// Step 8: `torch.nn.functional.cross_entropy(x, y)` (mean over the batch).
    pub torch_ce: f64,
    /// The mean of `sce`.
    pub sce_mean: f64,
    /// The conclusions, each checked on the numbers above.
    pub checks: Vec<Check>,
}

fn max_abs_diff(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    Zip::from(a).and(b).fold(0.0, |m: f64, &p, &q| {
        let d = (p - q).abs();
        if d.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(d)
        }
    })
}

/// The "equal up to rounding" bound: `16·C·ε·max(1, max|ref|)`.
fn tolerance(eps: f64, reference: &ArrayD<f64>) -> f64 {
    let scale = reference.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    16.0 * CLASSES as f64 * eps * scale
}

fn agree(claim: &'static str, claim_ko: &'static str, a: &ArrayD<f64>, reference: &ArrayD<f64>) -> Check {
    let d = max_abs_diff(a, reference);
    Check { claim, claim_ko, holds: d <= tolerance(f64::EPSILON, reference), max_abs_diff: d }
}

fn differ(claim: &'static str, claim_ko: &'static str, a: &ArrayD<f64>, reference: &ArrayD<f64>) -> Check {
    let d = max_abs_diff(a, reference);
    Check { claim, claim_ko, holds: d > tolerance(f64::EPSILON, reference), max_abs_diff: d }
}

/// Replay the walkthrough for `seed`: draw `x_int`, `x` and `y`, compute every array
/// with the framework front-ends and check the conclusions.
///
/// The same seed always gives the same report.
///
/// # Errors
/// None in practice: the shapes and labels are valid by construction; an [`crate::Error`]
/// from a front-end would mean a bug.
///
/// ```
/// let r = xent::demo::run(0).unwrap();
/// assert!(r.checks.iter().all(|c| c.holds));
/// assert!((r.torch_ce - r.sce_mean).abs() < 1e-14);
/// ```
pub fn run(seed: u64) -> Result<DemoReport> {
    let mut rng = SplitMix64::new(seed);
    let draw_class = |rng: &mut SplitMix64| rng.below(CLASSES as u64);
    let x_int: Vec<f32> = (0..ROWS).map(|_| draw_class(&mut rng) as f32).collect();
    let x: Vec<f64> = (0..ROWS * CLASSES).map(|_| rng.next_f64()).collect();
    let y: Vec<i64> = (0..ROWS).map(|_| draw_class(&mut rng) as i64).collect();
    let x_int = ArrayD::from_shape_vec(IxDyn(&[ROWS]), x_int).expect("3 values");
    let x = ArrayD::from_shape_vec(IxDyn(&[ROWS, CLASSES]), x).expect("15 values");
    let y = ArrayD::from_shape_vec(IxDyn(&[ROWS]), y).expect("3 values");

    // 1. softmax of integers, float32.
    let softmax_int = tf::softmax(&x_int.view(), -1)?;
    let softmax_int_sum = softmax_int.iter().fold(0.0f32, |s, &v| s + v);

    // 2. softmax of a float64 matrix.
    let softmax_x = tf::softmax(&x.view(), -1)?;
    let softmax_x_row_sums = softmax_x.sum_axis(Axis(1));

    // 3. log(softmax) against log_softmax.
    let log_of_softmax_x = softmax_x.mapv(f64::ln);
    let log_softmax_x = tf::log_softmax(&x.view(), -1)?;
    let wide = ArrayD::from_shape_vec(IxDyn(&[WIDE.len()]), WIDE.to_vec()).expect("5 values");
    // TF's CPU kernels flush subnormal results to zero: exp(-100) and exp(-90) are 0 there.
    let mut softmax_wide = tf::softmax(&wide.view(), -1)?;
    tf::flush_subnormals(&mut softmax_wide);
    let log_of_softmax_wide = softmax_wide.mapv(f32::ln);
    let log_softmax_wide = tf::log_softmax(&wide.view(), -1)?;

    // 4. labels.
    let y_one_hot = tf::one_hot::<f64>(&y.view(), CLASSES as i64, 1.0, 0.0, -1)?;

    // 5.–6. Keras and TF losses.
    let cce_softmax = keras::categorical_crossentropy(&y_one_hot.view(), &softmax_x.view(), false, 0.0, -1)?;
    let cce_raw = keras::categorical_crossentropy(&y_one_hot.view(), &x.view(), false, 0.0, -1)?;
    let sce = tf::softmax_cross_entropy_with_logits(&y_one_hot.view(), &x.view(), -1)?;
    let cce_from_logits = keras::categorical_crossentropy(&y_one_hot.view(), &x.view(), true, 0.0, -1)?;

    // 7. by hand.
    let manual_softmax = (&softmax_x.mapv(|v| -v) * &y_one_hot).sum_axis(Axis(1));
    let manual_log_softmax = (&log_softmax_x.mapv(|v| -v) * &y_one_hot).sum_axis(Axis(1));

    // 8. PyTorch.
    let torch_ce = torch::cross_entropy(&x.view(), Target::Indices(y.view()), &CrossEntropyArgs::default())?[[]];
    let sce_mean = sce.mean().expect("3 rows");

    let mut checks = Vec::new();
    let one_f32 = f64::from(softmax_int_sum) - 1.0;
    checks.push(Check {
        claim: "softmax(x_int) sums to 1 up to float32 rounding",
        claim_ko: "softmax(x_int)의 합은 float32 반올림 오차 범위 안에서 1이다",
        holds: one_f32.abs() <= 4.0 * f64::from(f32::EPSILON),
        max_abs_diff: one_f32.abs(),
    });
    let ones = ArrayD::from_elem(IxDyn(&[ROWS]), 1.0);
    checks.push(agree(
        "every row of softmax(x) sums to 1 up to float64 rounding",
        "softmax(x)의 각 행의 합은 float64 반올림 오차 범위 안에서 1이다",
        &softmax_x_row_sums,
        &ones,
    ));
    checks.push(agree(
        "log(softmax(x)) equals log_softmax(x) for these moderate logits",
        "이 정도 크기의 로짓에서는 log(softmax(x))와 log_softmax(x)가 같다",
        &log_of_softmax_x,
        &log_softmax_x,
    ));
    checks.push(wide_check(&log_of_softmax_wide, &log_softmax_wide));
    checks.push(differ(
        "cce_raw differs from sce: without from_logits Keras treats the logits as probabilities (renormalises and clips)",
        "cce_raw는 sce와 다르다: from_logits 없이는 Keras가 로짓을 확률로 보고 정규화하고 잘라낸다",
        &cce_raw,
        &sce,
    ));
    checks.push(agree(
        "cce_softmax equals sce: Keras categorical_crossentropy needs probabilities unless from_logits=True",
        "cce_softmax는 sce와 같다: from_logits=True가 아니면 Keras categorical_crossentropy에는 확률을 넣어야 한다",
        &cce_softmax,
        &sce,
    ));
    checks.push(agree(
        "cce_from_logits equals sce: with from_logits=True Keras categorical_crossentropy is softmax_cross_entropy_with_logits",
        "cce_from_logits는 sce와 같다: from_logits=True인 Keras categorical_crossentropy는 softmax_cross_entropy_with_logits이다",
        &cce_from_logits,
        &sce,
    ));
    checks.push(differ(
        "manual_softmax differs from sce: cross-entropy is not −Σ softmax·onehot",
        "manual_softmax는 sce와 다르다: 크로스 엔트로피는 −Σ softmax·onehot이 아니다",
        &manual_softmax,
        &sce,
    ));
    checks.push(agree(
        "manual_log_softmax equals sce: softmax_cross_entropy_with_logits is −Σ log_softmax·onehot",
        "manual_log_softmax는 sce와 같다: softmax_cross_entropy_with_logits는 −Σ log_softmax·onehot이다",
        &manual_log_softmax,
        &sce,
    ));
    let (tce, mean) = (ndarray::arr0(torch_ce).into_dyn(), ndarray::arr0(sce_mean).into_dyn());
    checks.push(agree(
        "torch_ce equals mean(sce): PyTorch's cross_entropy is the batch mean of softmax_cross_entropy_with_logits",
        "torch_ce는 mean(sce)와 같다: PyTorch의 cross_entropy는 softmax_cross_entropy_with_logits의 배치 평균이다",
        &tce,
        &mean,
    ));

    Ok(DemoReport {
        seed,
        x_int,
        softmax_int,
        softmax_int_sum,
        x,
        softmax_x,
        softmax_x_row_sums,
        log_of_softmax_x,
        log_softmax_x,
        wide,
        log_of_softmax_wide,
        log_softmax_wide,
        y,
        y_one_hot,
        cce_softmax,
        cce_raw,
        sce,
        cce_from_logits,
        manual_softmax,
        manual_log_softmax,
        torch_ce,
        sce_mean,
        checks,
    })
}

fn wide_check(log_of_softmax: &ArrayD<f32>, log_softmax: &ArrayD<f32>) -> Check {
    let underflows = log_of_softmax.iter().any(|&v| v == f32::NEG_INFINITY);
    let finite = log_softmax.iter().all(|v| v.is_finite());
    let d = Zip::from(log_of_softmax).and(log_softmax).fold(0.0f64, |m, &p, &q| {
        if p.is_finite() && q.is_finite() {
            m.max((f64::from(p) - f64::from(q)).abs())
        } else {
            m
        }
    });
    Check {
        claim: "for widely spread float32 logits log(softmax) underflows to -inf while log_softmax stays finite",
        claim_ko: "값의 차이가 큰 float32 로짓에서는 log(softmax)가 -inf로 떨어지지만 log_softmax는 유한하다",
        holds: underflows && finite,
        max_abs_diff: d,
    }
}

/// An `ndarray` as nested JSON lists (a 0-d array as a bare number).
fn nested<T: Copy + Into<Value>>(a: ndarray::ArrayViewD<'_, T>) -> Value {
    if a.ndim() == 0 {
        return a[[]].into();
    }
    Value::Array(a.outer_iter().map(nested).collect())
}

impl DemoReport {
    /// True when every [`Check`] holds.
    pub fn all_hold(&self) -> bool {
        self.checks.iter().all(|c| c.holds)
    }

    /// The arrays of [`ARRAY_KEYS`] as nested JSON lists, in their dtypes' values
    /// (float32 entries widened exactly to float64).
    pub fn arrays_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("x_int".into(), nested(self.x_int.view()));
        m.insert("softmax_int".into(), nested(self.softmax_int.view()));
        m.insert("x".into(), nested(self.x.view()));
        m.insert("softmax_x".into(), nested(self.softmax_x.view()));
        m.insert("log_of_softmax_x".into(), nested(self.log_of_softmax_x.view()));
        m.insert("log_softmax_x".into(), nested(self.log_softmax_x.view()));
        m.insert("y".into(), nested(self.y.view()));
        m.insert("y_one_hot".into(), nested(self.y_one_hot.view()));
        m.insert("cce_softmax".into(), nested(self.cce_softmax.view()));
        m.insert("cce_raw".into(), nested(self.cce_raw.view()));
        m.insert("sce".into(), nested(self.sce.view()));
        m.insert("cce_from_logits".into(), nested(self.cce_from_logits.view()));
        m.insert("manual_softmax".into(), nested(self.manual_softmax.view()));
        m.insert("manual_log_softmax".into(), nested(self.manual_log_softmax.view()));
        m.insert("torch_ce".into(), self.torch_ce.into());
        m
    }

    /// `{"seed": N, "arrays": {...}, "checks": [{"claim", "holds", "max_abs_diff"}]}`.
    ///
    /// ```
    /// let j = xent::demo::run(1).unwrap().to_json();
    /// assert_eq!(j["arrays"]["x"].as_array().unwrap().len(), 3);
    /// assert!(j["checks"].as_array().unwrap().iter().all(|c| c["holds"] == true));
    /// ```
    pub fn to_json(&self) -> Value {
        let checks: Vec<Value> =
            self.checks.iter().map(|c| json!({"claim": c.claim, "holds": c.holds, "max_abs_diff": c.max_abs_diff})).collect();
        json!({"seed": self.seed, "arrays": Value::Object(self.arrays_json()), "checks": checks})
    }

    /// The walkthrough as text: each step's arrays and a short explanation, then the
    /// checked conclusions.
    ///
    /// ```
    /// let r = xent::demo::run(0).unwrap();
    /// assert!(r.render(xent::demo::Lang::En).contains("log_softmax"));
    /// assert!(r.render(xent::demo::Lang::Ko).contains("결론"));
    /// ```
    pub fn render(&self, lang: Lang) -> String {
        let t = Text { ko: lang == Lang::Ko };
        let mut o = String::new();
        let mut line = |s: String| {
            o.push_str(&s);
            o.push('\n');
        };
        let ind = "     ";
        let f32a = |a: &ArrayD<f32>| fmt_array(&a.mapv(f64::from), ind);
        let f64a = |a: &ArrayD<f64>| fmt_array(a, ind);

        line(t.pick(
            &format!("xent demo (seed {}): softmax and cross-entropy, step by step", self.seed),
            &format!("xent demo (시드 {}): 소프트맥스와 크로스 엔트로피를 단계별로 살펴보기", self.seed),
        ));
        line(t.pick(
            "Every number comes from xent's tf / keras / torch front-ends; values are printed with 9 significant digits.",
            "모든 숫자는 xent의 tf / keras / torch 함수로 계산했고, 유효숫자 9자리로 출력합니다.",
        ));

        // 1.
        line(String::new());
        line(t.pick("1. Softmax of small integers (float32)", "1. 작은 정수의 소프트맥스 (float32)"));
        line(format!(
            "   x_int = {}   {}",
            f32a(&self.x_int),
            t.pick("(3 random integers in [0, 5), as float32)", "([0, 5)의 무작위 정수 3개, float32)")
        ));
        line(format!("   softmax_int = tf.nn.softmax(x_int) = {}", f32a(&self.softmax_int)));
        let d = f64::from(self.softmax_int_sum) - 1.0;
        let exact = if d == 0.0 {
            t.pick("exactly 1 in float32", "float32로 정확히 1")
        } else {
            t.pick(&format!("not exactly 1 in float32 (off by {d:.3e})"), &format!("float32로 정확히 1은 아님 (차이 {d:.3e})"))
        };
        line(format!("   sum(softmax_int) = {} -> {exact}", fmt_sig(f64::from(self.softmax_int_sum))));
        line(t.pick(
            "   softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x): positive entries that sum to 1, a probability distribution.\n   In float32 the sum is 1 only up to rounding: it can come out as 0.99999994 or 1.00000012.",
            "   softmax(x)_i = exp(x_i - max x) / sum_j exp(x_j - max x): 모든 값이 양수이고 합이 1인 확률 분포가 됩니다.\n   다만 float32에서는 반올림 때문에 합이 0.99999994나 1.00000012처럼 1에서 살짝 어긋날 수 있습니다.",
        ));

        // 2.
        line(String::new());
        line(t.pick("2. Softmax of a 3x5 float64 matrix", "2. 3x5 float64 행렬의 소프트맥스"));
        line(format!("   x = {}", t.pick("(uniform [0, 1), float64)", "([0, 1) 균등분포, float64)")));
        line(format!("{ind}{}", f64a(&self.x)));
        line("   softmax_x = tf.nn.softmax(x)".into());
        line(format!("{ind}{}", f64a(&self.softmax_x)));
        let sums: Vec<String> = self.softmax_x_row_sums.iter().map(|&v| fmt_sig(v)).collect();
        line(format!("   {} = [{}]", t.pick("row sums", "행별 합"), sums.join(" ")));
        line(t.pick(
            "   Softmax works along the last axis: each row becomes its own distribution over the 5 classes.",
            "   소프트맥스는 마지막 축을 따라 계산되므로, 각 행이 5개 클래스에 대한 독립적인 확률 분포가 됩니다.",
        ));

        // 3.
        line(String::new());
        line(t.pick("3. log(softmax) versus log_softmax", "3. log(softmax)와 log_softmax 비교"));
        line("   log_of_softmax_x = tf.math.log(tf.nn.softmax(x))".into());
        line(format!("{ind}{}", f64a(&self.log_of_softmax_x)));
        line("   log_softmax_x = tf.nn.log_softmax(x)".into());
        line(format!("{ind}{}", f64a(&self.log_softmax_x)));
        let d = max_abs_diff(&self.log_of_softmax_x, &self.log_softmax_x);
        line(t.pick(
            &format!("   For these moderate logits the two agree (max |diff| = {d:.3e})."),
            &format!("   이 정도 크기의 로짓에서는 두 값이 같습니다 (최대 |차이| = {d:.3e})."),
        ));
        line(format!("   {} = {}", t.pick("widely spread float32 logits", "값의 차이가 큰 float32 로짓"), f32a(&self.wide)));
        line(format!("     log(softmax) = {}", f32a(&self.log_of_softmax_wide)));
        line(format!("     log_softmax  = {}", f32a(&self.log_softmax_wide)));
        line(t.pick(
            "   exp(x - max) is below float32's smallest normal number (about 1.2e-38) once x is about 87 below the maximum,\n   and TensorFlow's CPU kernels flush such subnormal results to exactly 0, so log(softmax) is -inf already at\n   -10 (90 below the maximum), not only at -100. log_softmax = x - max - log(sum exp(x - max)) never takes the\n   log of an underflowed number: that is why frameworks compute cross-entropy from log_softmax.",
            "   x가 최댓값보다 약 87 이상 작으면 exp(x - max)가 float32의 가장 작은 정규 수(약 1.2e-38)보다 작아지고,\n   TensorFlow의 CPU 커널은 이런 비정규 결과를 정확히 0으로 만듭니다(flush-to-zero). 그래서 -100뿐 아니라\n   -10(최댓값보다 90 작음)에서도 log(softmax)가 -inf가 됩니다. log_softmax = x - max - log(sum exp(x - max))는\n   언더플로된 수에 로그를 취하지 않습니다. 그래서 프레임워크들은 크로스 엔트로피를 log_softmax로 계산합니다.",
        ));

        // 4.
        line(String::new());
        line(t.pick("4. Labels and one-hot encoding", "4. 레이블과 원-핫 인코딩"));
        line(format!(
            "   y = {}   {}",
            fmt_ints(&self.y),
            t.pick("(3 random labels in [0, 5), int64)", "([0, 5)의 무작위 레이블 3개, int64)")
        ));
        line("   y_one_hot = tf.one_hot(y, 5, dtype=float64)".into());
        line(format!("{ind}{}", f64a(&self.y_one_hot)));
        line(t.pick(
            "   Each row is the target distribution: all its mass on the true class.",
            "   각 행은 정답 클래스에만 확률 1이 있는 목표 분포입니다.",
        ));

        // 5.
        line(String::new());
        line(t.pick(
            "5. keras.losses.categorical_crossentropy expects probabilities",
            "5. keras.losses.categorical_crossentropy는 확률을 입력으로 받습니다",
        ));
        line(format!("   cce_softmax = categorical_crossentropy(y_one_hot, softmax(x)) = {}", f64a(&self.cce_softmax)));
        line(format!("   cce_raw     = categorical_crossentropy(y_one_hot, x)          = {}", f64a(&self.cce_raw)));
        line(t.pick(
            "   They differ. With the default from_logits=False Keras takes y_pred to be probabilities: it divides each row\n   by its sum, clips to [1e-7, 1 - 1e-7] and returns -sum(y_true * log p). Raw logits are silently treated as\n   unnormalised probabilities: no error, a plausible number, the wrong loss.",
            "   두 값은 다릅니다. 기본값 from_logits=False에서 Keras는 y_pred를 확률로 간주합니다. 각 행을 그 합으로 나누고\n   [1e-7, 1 - 1e-7]로 잘라낸 뒤 -sum(y_true * log p)를 돌려줍니다. 로짓을 그대로 넣으면 정규화되지 않은 확률로\n   취급되어, 오류 없이 그럴듯하지만 틀린 손실값이 나옵니다.",
        ));

        // 6.
        line(String::new());
        line(t.pick(
            "6. tf.nn.softmax_cross_entropy_with_logits and from_logits=True",
            "6. tf.nn.softmax_cross_entropy_with_logits와 from_logits=True",
        ));
        line(format!("   sce             = softmax_cross_entropy_with_logits(y_one_hot, x)            = {}", f64a(&self.sce)));
        line(format!("   cce_from_logits = categorical_crossentropy(y_one_hot, x, from_logits=True) = {}", f64a(&self.cce_from_logits)));
        line(t.pick(
            &format!(
                "   sce equals cce_softmax (max |diff| = {:.3e}) and cce_from_logits (max |diff| = {:.3e}):\n   with from_logits=True Keras hands the logits to this same fused op.",
                max_abs_diff(&self.cce_softmax, &self.sce),
                max_abs_diff(&self.cce_from_logits, &self.sce)
            ),
            &format!(
                "   sce는 cce_softmax (최대 |차이| = {:.3e}), cce_from_logits (최대 |차이| = {:.3e})와 같습니다.\n   from_logits=True이면 Keras는 로짓을 바로 이 연산에 넘깁니다.",
                max_abs_diff(&self.cce_softmax, &self.sce),
                max_abs_diff(&self.cce_from_logits, &self.sce)
            ),
        ));

        // 7.
        line(String::new());
        line(t.pick("7. Cross-entropy by hand", "7. 크로스 엔트로피 직접 계산"));
        line(format!("   manual_softmax     = reduce_sum(-softmax(x) * y_one_hot, -1)     = {}", f64a(&self.manual_softmax)));
        line(format!("   manual_log_softmax = reduce_sum(-log_softmax(x) * y_one_hot, -1) = {}", f64a(&self.manual_log_softmax)));
        line(t.pick(
            "   The first is minus the probability of the true class, not a cross-entropy. The second is -log p[y],\n   exactly sce: softmax_cross_entropy_with_logits is log_softmax followed by the dot product with the labels.",
            "   첫 번째는 정답 클래스 확률에 마이너스를 붙인 것일 뿐 크로스 엔트로피가 아닙니다. 두 번째는 -log p[y]로\n   sce와 정확히 같습니다. softmax_cross_entropy_with_logits는 log_softmax를 구한 뒤 레이블과 내적한 것입니다.",
        ));

        // 8.
        line(String::new());
        line(t.pick("8. PyTorch", "8. PyTorch"));
        line(format!("   torch_ce = torch.nn.functional.cross_entropy(x, y) = {}", fmt_sig(self.torch_ce)));
        line(format!("   mean(sce) = {}", fmt_sig(self.sce_mean)));
        line(t.pick(
            "   PyTorch takes the logits and the integer labels directly, applies log_softmax itself and averages over\n   the batch (reduction='mean').",
            "   PyTorch는 로짓과 정수 레이블을 그대로 받아 내부에서 log_softmax를 적용하고 배치 평균을 냅니다\n   (reduction='mean').",
        ));

        // Conclusions.
        line(String::new());
        line(t.pick("Conclusions (each checked on the numbers above)", "결론 (위의 숫자로 하나씩 확인)"));
        for c in &self.checks {
            let mark = match (c.holds, t.ko) {
                (true, false) => "holds",
                (false, false) => "DOES NOT HOLD",
                (true, true) => "성립",
                (false, true) => "성립하지 않음",
            };
            let claim = if t.ko { c.claim_ko } else { c.claim };
            line(format!("  [{mark}] {claim} ({} = {:.3e})", t.pick("max |diff|", "최대 |차이|"), c.max_abs_diff));
        }
        let failed = self.checks.iter().filter(|c| !c.holds).count();
        line(if failed == 0 {
            t.pick(&format!("All {} checks hold.", self.checks.len()), &format!("{}개 항목이 모두 성립합니다.", self.checks.len()))
        } else {
            t.pick(
                &format!("{failed} of {} checks do not hold.", self.checks.len()),
                &format!("{}개 중 {failed}개 항목이 성립하지 않습니다.", self.checks.len()),
            )
        });
        o
    }
}

struct Text {
    ko: bool,
}

impl Text {
    fn pick(&self, en: &str, ko: &str) -> String {
        if self.ko { ko } else { en }.to_string()
    }
}

/// `v` with 9 significant digits (enough to identify a float32 exactly).
fn fmt_sig(v: f64) -> String {
    const SIG: i32 = 9;
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return if v.is_nan() {
            "nan".into()
        } else if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let mut e = v.abs().log10().floor() as i32;
    // Rounding to SIG digits can carry into the next power of ten (0.9999999999 -> 1.00000000).
    if format!("{:.*e}", (SIG - 1) as usize, v.abs()).ends_with(&format!("e{}", e + 1)) {
        e += 1;
    }
    if !(-4..SIG).contains(&e) {
        format!("{:.*e}", (SIG - 1) as usize, v)
    } else {
        format!("{:.*}", (SIG - 1 - e) as usize, v)
    }
}

/// An array element: whole numbers as NumPy prints them (`4.`, `-200.`), others as [`fmt_sig`].
fn fmt_elem(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{}.", if v == 0.0 { 0.0 } else { v })
    } else {
        fmt_sig(v)
    }
}

/// A 1-D array as `[a b c]`; a 2-D one as NumPy prints it, continuation rows indented by `indent`.
fn fmt_array(a: &ArrayD<f64>, indent: &str) -> String {
    let row = |r: ndarray::ArrayViewD<'_, f64>| format!("[{}]", r.iter().map(|&v| fmt_elem(v)).collect::<Vec<_>>().join(" "));
    match a.ndim() {
        0 => fmt_sig(a[[]]),
        1 => row(a.view()),
        _ => {
            let rows: Vec<String> = a.outer_iter().map(row).collect();
            format!("[{}]", rows.join(&format!("\n{indent} ")))
        }
    }
}

fn fmt_ints(a: &ArrayD<i64>) -> String {
    format!("[{}]", a.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmt_sig_uses_nine_digits() {
        assert_eq!(fmt_sig(1.0), "1.00000000");
        assert_eq!(fmt_sig(f64::from(0.99999994f32)), "0.999999940");
        assert_eq!(fmt_sig(-200.0), "-200.000000");
        assert_eq!(fmt_sig(f64::NEG_INFINITY), "-inf");
        assert_eq!(fmt_sig(1.5e-7), "1.50000000e-7");
        assert_eq!(fmt_sig(0.99999999999), "1.00000000");
        assert_eq!(fmt_sig(-9.9999999999), "-10.0000000");
        assert_eq!(fmt_elem(-200.0), "-200.");
        assert_eq!(fmt_elem(-0.0), "0.");
        assert_eq!(fmt_elem(0.25), "0.250000000");
    }
}

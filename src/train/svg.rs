//! The loss and accuracy curves of a [`TrainReport`] as a hand-written SVG picture.

use std::fmt::Write;

use super::TrainReport;

const W: f64 = 720.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;
const LOSS: &str = "#1f77b4";
const TRAIN: &str = "#2ca02c";
const TEST: &str = "#d62728";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The round step (1, 2 or 5 times a power of ten) nearest above `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag)
}

/// About `n` round tick values from 0, the last one at or above `hi`.
fn ticks(hi: f64, n: usize) -> Vec<f64> {
    let hi = if hi > 0.0 && hi.is_finite() { hi } else { 1.0 };
    let step = nice_step(hi / n.max(1) as f64);
    let k = ((hi / step) - 1e-9).ceil().max(1.0) as i64;
    (0..=k).map(|i| i as f64 * step).collect()
}

/// A tick label without float noise (`0.30000000000000004` → `0.3`).
fn label(v: f64) -> String {
    let s = format!("{:.6}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

/// The training curves as an SVG document: the training loss against the epoch
/// (left axis, from 0) and the train and test accuracy (right axis, 0 to 1), with axes,
/// ticks, labels, a legend and one `<polyline>` per curve. The text starts with `<svg`.
///
/// ```
/// use xent::train::{plot_svg, train, Dataset, TrainOptions};
/// let r = train(&Dataset::iris(), &TrainOptions { epochs: 5, ..Default::default() }, |_| {}).unwrap();
/// let svg = plot_svg(&r);
/// assert!(svg.starts_with("<svg") && svg.contains("<polyline"));
/// ```
pub fn plot_svg(r: &TrainReport) -> String {
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let epochs = r.loss_curve.len().max(1) as f64;
    let max_loss = r.loss_curve.iter().copied().filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    let loss_ticks = ticks(max_loss, 5);
    let loss_top = *loss_ticks.last().expect("at least two ticks");
    let x_of = |epoch: f64| LEFT + pw * epoch / epochs;
    let yl = |v: f64| TOP + ph * (1.0 - v / loss_top);
    let ya = |v: f64| TOP + ph * (1.0 - v);
    let points = |vals: &[f64], y: &dyn Fn(f64) -> f64| -> String {
        vals.iter().enumerate().map(|(i, &v)| format!("{:.2},{:.2}", x_of(i as f64 + 1.0), y(v))).collect::<Vec<_>>().join(" ")
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>"#);
    let title = format!("{}: {}, {}", r.dataset, r.model, r.loss);
    let _ = writeln!(s, r#"<text x="{}" y="24" text-anchor="middle" font-size="14">{}</text>"#, W / 2.0, esc(&title));

    // Grid and left (loss) ticks.
    for &t in &loss_ticks {
        let y = yl(t);
        let _ = writeln!(s, r##"<line x1="{LEFT}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#e5e5e5"/>"##, LEFT + pw);
        let _ = writeln!(s, r#"<line x1="{:.2}" y1="{y:.2}" x2="{LEFT}" y2="{y:.2}" stroke="black"/>"#, LEFT - 5.0);
        let _ = writeln!(s, r#"<text x="{:.2}" y="{:.2}" text-anchor="end">{}</text>"#, LEFT - 8.0, y + 4.0, label(t));
    }
    // Right (accuracy) ticks.
    for k in 0..=5 {
        let v = k as f64 / 5.0;
        let y = ya(v);
        let xr = LEFT + pw;
        let _ = writeln!(s, r#"<line x1="{xr:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="black"/>"#, xr + 5.0);
        let _ = writeln!(s, r#"<text x="{:.2}" y="{:.2}" text-anchor="start">{}</text>"#, xr + 8.0, y + 4.0, label(v));
    }
    // Bottom (epoch) ticks.
    for t in ticks(epochs, 6) {
        let x = x_of(t);
        let y0 = TOP + ph;
        let _ = writeln!(s, r#"<line x1="{x:.2}" y1="{y0:.2}" x2="{x:.2}" y2="{:.2}" stroke="black"/>"#, y0 + 5.0);
        let _ = writeln!(s, r#"<text x="{x:.2}" y="{:.2}" text-anchor="middle">{}</text>"#, y0 + 20.0, label(t));
    }
    // Axes.
    let _ = writeln!(s, r#"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#);
    let _ = writeln!(s, r#"<text x="{:.2}" y="{:.2}" text-anchor="middle">epoch</text>"#, LEFT + pw / 2.0, H - 18.0);
    let _ = writeln!(
        s,
        r#"<text x="18" y="{:.2}" text-anchor="middle" transform="rotate(-90 18 {:.2})" fill="{LOSS}">training loss</text>"#,
        TOP + ph / 2.0,
        TOP + ph / 2.0
    );
    let xr = W - 18.0;
    let _ = writeln!(
        s,
        r#"<text x="{xr}" y="{:.2}" text-anchor="middle" transform="rotate(90 {xr} {:.2})">accuracy</text>"#,
        TOP + ph / 2.0,
        TOP + ph / 2.0
    );

    // Curves.
    let _ = writeln!(s, r#"<polyline fill="none" stroke="{LOSS}" stroke-width="2" points="{}"/>"#, points(&r.loss_curve, &yl));
    let _ = writeln!(
        s,
        r#"<polyline fill="none" stroke="{TRAIN}" stroke-width="1.5" stroke-dasharray="6 3" points="{}"/>"#,
        points(&r.train_accuracy_curve, &ya)
    );
    if !r.test_accuracy_curve.is_empty() {
        let _ =
            writeln!(s, r#"<polyline fill="none" stroke="{TEST}" stroke-width="1.5" points="{}"/>"#, points(&r.test_accuracy_curve, &ya));
    }

    // Legend.
    let mut entries = vec![(LOSS, "training loss (left)".to_string(), ""), (TRAIN, "train accuracy (right)".to_string(), "6 3")];
    if let Some(a) = r.test_accuracy {
        entries.push((TEST, format!("test accuracy (right): {}", label((a * 1000.0).round() / 1000.0)), ""));
    }
    let (lx, mut ly) = (LEFT + pw - 230.0, TOP + ph * 0.45);
    for (color, text, dash) in entries {
        let dash = if dash.is_empty() { String::new() } else { format!(r#" stroke-dasharray="{dash}""#) };
        let _ =
            writeln!(s, r#"<line x1="{lx:.2}" y1="{ly:.2}" x2="{:.2}" y2="{ly:.2}" stroke="{color}" stroke-width="2"{dash}/>"#, lx + 24.0);
        let _ = writeln!(s, r#"<text x="{:.2}" y="{:.2}">{}</text>"#, lx + 30.0, ly + 4.0, esc(&text));
        ly += 18.0;
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(1.0, 5), [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]);
        assert_eq!(ticks(100.0, 6), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        assert_eq!(ticks(1.13, 5), [0.0, 0.5, 1.0, 1.5]);
        assert_eq!(label(0.6000000000000001), "0.6");
    }
}

//! The text form of a result, printed by `xent eval` without `-o`.
//!
//! Nested brackets like numpy's repr, one line per innermost row; each number in the
//! shortest form that reads back to the same value of its dtype (Rust's `{:?}`: exact,
//! so at least as many significant digits as the value needs, scientific notation
//! below 1e-5 and from 1e16), `nan`, `inf`, `-inf`, and `True`/`False` for bool.

use xent::DynArray;

fn float(v: f64, s: String) -> String {
    if v.is_nan() {
        "nan".into()
    } else {
        s
    }
}

/// The array as text, ending with a newline.
pub fn format(a: &DynArray) -> String {
    let items: Vec<String> = match a {
        DynArray::F16(x) => x.iter().map(|&v| float(f64::from(v), format!("{:?}", f32::from(v)))).collect(),
        DynArray::F32(x) => x.iter().map(|&v| float(f64::from(v), format!("{v:?}"))).collect(),
        DynArray::F64(x) => x.iter().map(|&v| float(v, format!("{v:?}"))).collect(),
        DynArray::U8(x) => x.iter().map(|v| v.to_string()).collect(),
        DynArray::I32(x) => x.iter().map(|v| v.to_string()).collect(),
        DynArray::I64(x) => x.iter().map(|v| v.to_string()).collect(),
        DynArray::Bool(x) => x.iter().map(|&v| if v { "True" } else { "False" }.to_string()).collect(),
    };
    let mut out = String::new();
    nest(&mut out, a.shape(), &items, 0);
    out.push('\n');
    out
}

/// Append the block of `items` (row-major, of `shape`) at nesting `depth`.
fn nest(out: &mut String, shape: &[usize], items: &[String], depth: usize) {
    let Some((&n, rest)) = shape.split_first() else {
        out.push_str(&items[0]);
        return;
    };
    out.push('[');
    let step = rest.iter().product::<usize>();
    for i in 0..n {
        if i > 0 {
            if rest.is_empty() {
                out.push_str(", ");
            } else {
                // numpy: a newline per row, a blank line between higher blocks.
                out.push(',');
                out.push_str(&"\n".repeat(rest.len()));
                out.push_str(&" ".repeat(depth + 1));
            }
        }
        nest(out, rest, &items[i * step..(i + 1) * step], depth + 1);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::format;
    use ndarray::{ArrayD, IxDyn};
    use xent::DynArray;

    #[test]
    fn scalars_keep_every_digit() {
        assert_eq!(format(&DynArray::F32(ArrayD::from_elem(IxDyn(&[]), 0.006_760_463f32))), "0.006760463\n");
        let v = 0.006_760_443_547_121_172_f64;
        let s = format(&DynArray::F64(ArrayD::from_elem(IxDyn(&[]), v)));
        assert_eq!(s.trim().parse::<f64>().unwrap(), v);
    }

    #[test]
    fn shapes_nest_like_numpy() {
        let a = DynArray::F64(
            ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0, -2.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e-7]).unwrap(),
        );
        assert_eq!(format(&a), "[[1.0, -2.5, nan],\n [inf, -inf, 1e-7]]\n");
        let b = DynArray::I64(ArrayD::from_shape_vec(IxDyn(&[2, 1, 2]), vec![1, 2, 3, 4]).unwrap());
        assert_eq!(format(&b), "[[[1, 2]],\n\n [[3, 4]]]\n");
        let e = DynArray::F32(ArrayD::zeros(IxDyn(&[2, 0])));
        assert_eq!(format(&e), "[[],\n []]\n");
        let t = DynArray::Bool(ArrayD::from_shape_vec(IxDyn(&[2]), vec![true, false]).unwrap());
        assert_eq!(format(&t), "[True, False]\n");
    }

    #[test]
    fn float16_prints_its_exact_value() {
        let h = half::f16::from_f32(0.1);
        let s = format(&DynArray::F16(ArrayD::from_elem(IxDyn(&[1]), h)));
        assert_eq!(s, "[0.099975586]\n");
    }
}

//! Peak resident memory of the fused linear cross-entropy through the CLI, where the
//! logits would not fit: `xent eval torch.nn.functional.linear_cross_entropy --grad
//! linear_weight` at N = 4096, D = 256, C = 65536 (the float32 logits alone would be
//! 1 GiB) must stay under 400 MB. The inputs are 4 MiB + 64 MiB, the gradient 64 MiB,
//! the chunk budget 64 MiB.
//!
//! The child's peak RSS is `getrusage(RUSAGE_CHILDREN).ru_maxrss`: the largest of the
//! children this test process has waited for, and this file starts only this one.

use ndarray::{ArrayD, IxDyn};
use xent::DynArray;

fn children_max_rss_bytes() -> u64 {
    // SAFETY: `getrusage` writes one `rusage` struct, which we own and zero-initialise.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru), 0);
        ru
    };
    ru.ru_maxrss as u64 * 1024 // KiB on Linux
}

#[test]
fn fused_linear_cross_entropy_gradient_stays_under_400_mb() {
    let (n, d, c) = (4096usize, 256usize, 65536usize);
    let dir = std::env::temp_dir().join(format!("xent-memory-lce-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let x = ArrayD::from_shape_fn(IxDyn(&[n, d]), |ix| (((ix[0] * 31 + ix[1] * 17) % 23) as f32 - 11.0) / 23.0);
    let w = ArrayD::from_shape_fn(IxDyn(&[c, d]), |ix| (((ix[0] * 13 + ix[1] * 29) % 19) as f32 - 9.0) / 19.0);
    let y = ArrayD::from_shape_fn(IxDyn(&[n]), |ix| ((ix[0] * 7919) % c) as i64);
    let paths = [("input", DynArray::F32(x)), ("linear_weight", DynArray::F32(w)), ("target", DynArray::I64(y))].map(|(name, a)| {
        let p = dir.join(format!("{name}.npy"));
        xent::npy::write(&p, &a).unwrap();
        (name, p)
    });
    let out = dir.join("dw.npy");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xent"));
    cmd.args(["eval", "torch.nn.functional.linear_cross_entropy", "--grad", "linear_weight", "-o"]).arg(&out);
    for (name, p) in &paths {
        cmd.arg("--input").arg(format!("{name}={}", p.display()));
    }
    let res = cmd.output().unwrap();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let peak = children_max_rss_bytes();
    let dw = xent::npy::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    println!("peak RSS of the child: {:.1} MB", peak as f64 / 1e6);
    assert!(peak < 400_000_000, "peak RSS {peak} bytes");
    // A real gradient: the shape of linear_weight, finite, and Σ_c dW[c, :] = 0 (each
    // row's d logits, softmax − onehot, sums to 0), while dW itself is not 0.
    let DynArray::F32(dw) = dw else { panic!("float32 gradient") };
    assert_eq!(dw.shape(), &[c, d]);
    assert!(dw.iter().all(|v| v.is_finite()));
    let col0: f64 = (0..c).map(|k| f64::from(dw[[k, 0]])).sum();
    let mag: f64 = (0..c).map(|k| f64::from(dw[[k, 0]]).abs()).sum();
    assert!(mag > 1e-3 && col0.abs() < 1e-4 * mag.max(1.0), "column sum {col0}, magnitude {mag}");
}

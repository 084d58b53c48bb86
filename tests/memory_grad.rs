//! Peak resident memory of `xent eval OP --grad NAME` for the softmax and log-softmax
//! ops, through the binary: the input read from disk plus the gradient, no more
//! (before, the gradient of `sum(softmax)` held the input, the recomputed softmax, a
//! contiguous copy of the upstream ones and the result: 4× the input).
//!
//! Each child's peak RSS is its own `ru_maxrss` from `wait4` (Linux only; elsewhere
//! the test says so and passes). Linux carries the high-water mark of the memory a
//! process had before `exec` over to the new program, so the child is forked (a
//! `pre_exec` hook keeps `Command` from sharing this process's memory through
//! `posix_spawn`, whose mark would be this test's own peak) while this process holds
//! no large array. The binary's own footprint (code, allocator, thread stacks) is
//! measured on a tiny input and subtracted.

#[cfg(target_os = "linux")]
mod linux {
    use std::os::unix::process::CommandExt;
    use std::path::Path;
    use std::process::Command;

    use ndarray::{ArrayD, IxDyn};
    use xent::DynArray;

    /// Run `xent` with `args`, reap it with `wait4` and return its peak RSS in bytes.
    fn peak_rss(args: &[String]) -> u64 {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xent"));
        cmd.args(args).stdout(std::process::Stdio::null());
        // SAFETY: the hook runs nothing; it only makes `Command` fork and exec.
        unsafe {
            cmd.pre_exec(|| Ok(()));
        }
        let child = cmd.spawn().unwrap();
        let pid = child.id() as libc::pid_t;
        // SAFETY: `wait4` writes one status int and one `rusage`, both owned and
        // zero-initialised here; the child is reaped here, never through `child`.
        let (status, ru) = unsafe {
            let mut status = 0;
            let mut ru: libc::rusage = std::mem::zeroed();
            assert_eq!(libc::wait4(pid, &mut status, 0, &mut ru), pid);
            (status, ru)
        };
        std::mem::forget(child);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "xent {args:?} failed (status {status})");
        ru.ru_maxrss as u64 * 1024 // KiB on Linux
    }

    fn eval_args(op: &str, name: &str, input: &Path, out: &Path) -> Vec<String> {
        ["eval", op, "--input", &format!("{name}={}", input.display()), "--grad", name, "-o", &out.display().to_string()]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn softmax_gradients_peak_at_input_plus_output() {
        let (n, c) = (1024usize, 8192usize); // 32 MiB of float32
        let bytes = (n * c * 4) as u64;
        let dir = std::env::temp_dir().join(format!("xent-memory-grad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let xv = |r: usize, k: usize| f64::from((((r * 31 + k * 17) % 101) as f32 - 50.0) / 10.0);
        let (big, tiny, out) = (dir.join("x.npy"), dir.join("tiny.npy"), dir.join("dx.npy"));
        // Written and dropped before any child runs (see the module docs).
        xent::npy::write(&big, &DynArray::F32(ArrayD::from_shape_fn(IxDyn(&[n, c]), |ix| xv(ix[0], ix[1]) as f32))).unwrap();
        xent::npy::write(&tiny, &DynArray::F32(ArrayD::from_elem(IxDyn(&[2, 3]), 0.5))).unwrap();
        let mut report = Vec::new();
        for (op, name) in [
            ("tf.nn.softmax", "logits"),
            ("tf.nn.log_softmax", "logits"),
            ("torch.softmax", "input"),
            ("torch.log_softmax", "input"),
            ("jax.nn.softmax", "x"),
            ("jax.nn.log_softmax", "x"),
        ] {
            let base = peak_rss(&eval_args(op, name, &tiny, &out));
            let peak = peak_rss(&eval_args(op, name, &big, &out));
            let ratio = peak.saturating_sub(base) as f64 / bytes as f64;
            report.push(format!(
                "{op:20} --grad {name:7} peak RSS {:7.1} MB, base {:5.1} MB: {ratio:.2}x the input",
                peak as f64 / 1e6,
                base as f64 / 1e6
            ));
            assert!(ratio <= 2.1, "{op} --grad {name}: peak RSS {peak} bytes, {ratio:.2}x the {bytes}-byte input beyond the base {base}");
            // The gradient itself, checked against float64: d sum(softmax) = 0 and
            // d sum(log_softmax)_k = 1 − C·softmax_k.
            let DynArray::F32(dx) = xent::npy::read(&out).unwrap() else { panic!("float32 gradient") };
            assert_eq!(dx.shape(), &[n, c]);
            for r in [0, 1, n / 2, n - 1] {
                let m = (0..c).map(|k| xv(r, k)).fold(f64::NEG_INFINITY, f64::max);
                let s: f64 = (0..c).map(|k| (xv(r, k) - m).exp()).sum();
                for k in [0, 1, 7, c / 3, c - 1] {
                    let want = if op.contains("log") { 1.0 - c as f64 * (xv(r, k) - m).exp() / s } else { 0.0 };
                    let got = f64::from(dx[[r, k]]);
                    assert!((got - want).abs() <= 1e-5 * want.abs().max(1.0), "{op} [{r}, {k}]: {got} vs {want}");
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        println!("{}", report.join("\n"));
    }
}

#[cfg(not(target_os = "linux"))]
#[test]
fn softmax_gradients_peak_at_input_plus_output() {
    eprintln!("skipped: the peak-RSS check reads wait4's ru_maxrss, measured on Linux only");
}

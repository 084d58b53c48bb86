//! Peak memory of reading and of every op of the table, as a multiple of the input
//! size, measured with a counting global allocator (live bytes, high-water mark).
//! `cargo test --test memory -- --nocapture` prints the table; the assertions keep
//! the documented bounds (docs/hardening.md) from regressing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use ndarray::{ArrayD, IxDyn};
use serde_json::json;
use xent::registry::{InputKind, OPS};
use xent::{DynArray, Par};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(n: usize) {
    let now = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        grow(l.size());
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        grow(l.size());
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if new > l.size() {
            grow(new - l.size());
        } else {
            LIVE.fetch_sub(l.size() - new, Relaxed);
        }
        unsafe { System.realloc(p, l, new) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size(), Relaxed);
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Bytes allocated by `f` beyond what was live when it started, at its peak.
fn extra_peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let out = f();
    (out, PEAK.load(Relaxed) - base)
}

const N: usize = 512;
const C: usize = 512;

/// Inputs of `op` shaped (N, C) (labels (N)), all float32 or int64.
fn inputs(op: &xent::registry::OpSpec) -> Vec<(String, DynArray)> {
    op.inputs
        .iter()
        .filter(|i| !i.optional)
        .map(|i| {
            let torch_ce = op.name.starts_with("torch.nn.functional.cross") || op.name == "torch.nn.CrossEntropyLoss";
            let sparse = matches!(i.kind, InputKind::Labels(_)) || (i.kind == InputKind::Any && !torch_ce);
            let a = if op.name.ends_with("one_hot") {
                DynArray::I64(ArrayD::from_shape_fn(IxDyn(&[N]), |ix| (ix[0] % 8) as i64))
            } else if sparse {
                DynArray::I64(ArrayD::from_shape_fn(IxDyn(&[N]), |ix| (ix[0] % C) as i64))
            } else if torch_ce && i.name == "target" {
                DynArray::I64(ArrayD::from_shape_fn(IxDyn(&[N]), |ix| (ix[0] % C) as i64))
            } else {
                DynArray::F32(ArrayD::from_shape_fn(IxDyn(&[N, C]), |ix| ((ix[0] * 7 + ix[1] * 13) % 97) as f32 / 97.0))
            };
            (i.name.to_string(), a)
        })
        .collect()
}

#[test]
fn peak_memory_is_a_small_multiple_of_the_input() {
    xent::set_default_par(Par::Seq);
    let input_bytes = N * C * 4;
    let mut report = Vec::new();

    // Reading: the array, not the file plus the array.
    let dir = std::env::temp_dir().join(format!("xent-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("x.npy");
    xent::npy::write(&p, &DynArray::F32(ArrayD::from_elem(IxDyn(&[N, C]), 0.5))).unwrap();
    let (a, peak) = extra_peak(|| xent::npy::read(&p).unwrap());
    drop(a);
    let _ = std::fs::remove_dir_all(&dir);
    let read_ratio = peak as f64 / input_bytes as f64;
    report.push(format!("{:58} {read_ratio:.2}", "xent::npy::read"));
    assert!(read_ratio < 1.3, "npy::read peaks at {read_ratio:.2}x the data");

    let mut worst: Vec<(f64, String)> = Vec::new();
    for op in OPS {
        let mut ins = inputs(op);
        if op.name == "sklearn.metrics.log_loss" {
            // y_proba is optional only because the deprecated y_pred may stand for it.
            ins.push((
                "y_proba".to_string(),
                DynArray::F32(ArrayD::from_shape_fn(IxDyn(&[N, C]), |ix| ((ix[0] * 7 + ix[1] * 13) % 97) as f32 / 97.0)),
            ));
        }
        let params = match op.name {
            "tf.one_hot" => vec![("depth".to_string(), json!(8))],
            "tf.nn.weighted_cross_entropy_with_logits" => vec![("pos_weight".to_string(), json!(2.0))],
            "jax.nn.one_hot" => vec![("num_classes".to_string(), json!(8))],
            "optax.losses.smooth_labels" => vec![("alpha".to_string(), json!(0.1))],
            _ => vec![],
        };
        for grad in std::iter::once(None).chain(op.grad_wrt.first().map(|g| Some(*g))) {
            let (r, peak) = extra_peak(|| xent::registry::eval(op.name, ins.clone(), params.clone(), grad));
            r.unwrap_or_else(|e| panic!("{}: {e}", op.name));
            // The clone of the inputs handed to eval is the caller's, not the op's.
            let given: usize = ins.iter().map(|(_, a)| a.len() * a.dtype().size()).sum();
            let ratio = peak.saturating_sub(given) as f64 / input_bytes as f64;
            let name = format!("{}{}", op.name, if grad.is_some() { " --grad" } else { "" });
            report.push(format!("{name:58} {ratio:.2}"));
            worst.push((ratio, name));
        }
    }
    println!("peak extra bytes / bytes of one (512, 512) float32 input:\n{}", report.join("\n"));
    // Beyond its inputs, a forward allocates its output and at most one input-sized
    // temporary; a gradient its output and at most two. The softmax and log-softmax
    // gradients of `sum(output)` allocate only their output (the softmax is turned
    // into its gradient in place; the upstream ones are never an array). Keras'
    // binary focal gradient keeps the element-wise BCE, its derivative and the mean's
    // upstream (its class too).
    for (ratio, name) in worst {
        let bound = match name.as_str() {
            "keras.losses.binary_focal_crossentropy --grad" | "keras.losses.BinaryFocalCrossentropy --grad" => 4.1,
            "tf.nn.softmax --grad"
            | "tf.nn.log_softmax --grad"
            | "torch.softmax --grad"
            | "torch.log_softmax --grad"
            | "jax.nn.softmax --grad"
            | "jax.nn.log_softmax --grad" => 1.1,
            n if n.ends_with("--grad") => 3.1,
            _ => 2.1,
        };
        assert!(ratio <= bound, "{name} allocates {ratio:.2}x its input (bound {bound})");
    }
}

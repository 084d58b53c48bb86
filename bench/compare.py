#!/usr/bin/env python3
"""Side-by-side timing of `xent bench` against PyTorch (and TensorFlow) in one run.

usage: bench/compare.py [--bin target/release/xent] [--threads 2] [--shapes 65536x10,8192x1000,...]
                        [--ops softmax,log_softmax,cross_entropy,cross_entropy_fwd_bwd] [--reps K] [--json OUT]

For every op and shape it runs `xent bench OP --shape N,C --threads T --json`, then, where
the framework imports, the same op on the same kind of data (normal x 3 logits, int64
labels, float32):
  torch out=  the ATen kernels writing into preallocated, already-touched buffers
              (_softmax / _log_softmax / nll_loss_forward / nll_loss_backward /
              _log_softmax_backward_data with out=): the fairest kernel-to-kernel comparison;
  torch API   F.softmax / F.log_softmax / F.cross_entropy (+ .backward()), as users call them;
  tf          tf.nn.softmax / log_softmax / sparse_softmax_cross_entropy_with_logits (+ tape).
Medians over K repetitions after a warm-up; ratios are framework time / xent time.
Without PyTorch or TensorFlow installed it prints xent's numbers alone.
"""
import argparse, json, statistics, subprocess, sys, time

OPS = ["softmax", "log_softmax", "cross_entropy", "cross_entropy_fwd_bwd"]
SHAPES = "65536x10,8192x1000,4096x32000,1024x128256"


def median_time(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def torch_runs(op, n, c, threads, reps):
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return {}
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, c, generator=g) * 3
    y = torch.randint(0, c, (n,), generator=g)
    out = torch.empty_like(x).fill_(1)
    lsm = torch.empty_like(x).fill_(1)
    dx = torch.empty_like(x).fill_(1)
    loss = torch.empty(()).fill_(1)
    tw = torch.empty(()).fill_(1)
    go = torch.ones(())
    mean, ignore = 1, -100
    res = {}
    if op == "softmax":
        res["torch out="] = median_time(lambda: torch._softmax(x, 1, False, out=out), reps)
        res["torch API"] = median_time(lambda: F.softmax(x, 1), reps)
    elif op == "log_softmax":
        res["torch out="] = median_time(lambda: torch._log_softmax(x, 1, False, out=out), reps)
        res["torch API"] = median_time(lambda: F.log_softmax(x, 1), reps)
    elif op == "cross_entropy":
        def f():
            torch._log_softmax(x, 1, False, out=lsm)
            torch.ops.aten.nll_loss_forward.output(lsm, y, None, mean, ignore, output=loss, total_weight=tw)
        res["torch out="] = median_time(f, reps)
        res["torch API"] = median_time(lambda: F.cross_entropy(x, y), reps)
    elif op == "cross_entropy_fwd_bwd":
        def f():
            torch._log_softmax(x, 1, False, out=lsm)
            torch.ops.aten.nll_loss_forward.output(lsm, y, None, mean, ignore, output=loss, total_weight=tw)
            torch.ops.aten.nll_loss_backward.grad_input(go, lsm, y, None, mean, ignore, tw, grad_input=out)
            torch.ops.aten._log_softmax_backward_data.out(out, lsm, 1, x.dtype, out=dx)
        res["torch out="] = median_time(f, reps)
        xr = x.clone().requires_grad_(True)
        def api():
            xr.grad = None
            F.cross_entropy(xr, y).backward()
        res["torch API"] = median_time(api, reps)
    return res


def tf_runs(op, n, c, threads, reps):
    try:
        import tensorflow as tf
    except ImportError:
        return {}
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    x = tf.random.normal((n, c), seed=0) * 3
    y = tf.random.uniform((n,), 0, c, dtype=tf.int64, seed=0)
    if op == "softmax":
        f = lambda: tf.nn.softmax(x).numpy()
    elif op == "log_softmax":
        f = lambda: tf.nn.log_softmax(x).numpy()
    elif op == "cross_entropy":
        f = lambda: tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, x)).numpy()
    else:
        xv = tf.Variable(x)
        def f():
            with tf.GradientTape() as t:
                l = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, xv))
            return t.gradient(l, xv).numpy()
    return {"tf": median_time(f, reps)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/xent")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--shapes", default=SHAPES)
    ap.add_argument("--ops", default=",".join(OPS))
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = []
    print("%-22s %-12s %10s %8s  %s" % ("op", "shape", "xent ms", "GB/s", "others (ms, ratio to xent)"))
    for op in a.ops.split(","):
        for s in a.shapes.split(","):
            n, c = map(int, s.split("x"))
            r = json.loads(subprocess.run([a.bin, "bench", op, "--shape", "%d,%d" % (n, c), "--threads", str(a.threads), "--reps", str(a.reps), "--json"],
                                          check=True, capture_output=True, text=True).stdout)
            others = {}
            others.update(torch_runs(op, n, c, a.threads, a.reps))
            others.update(tf_runs(op, n, c, a.threads, a.reps))
            cells = ["%s %.2f (%.1fx)" % (k, v * 1e3, v / r["median_s"]) for k, v in others.items()]
            print("%-22s %-12s %10.3f %8.1f  %s" % (op, s, r["median_s"] * 1e3, r["gbps"], "; ".join(cells) or "-"))
            sys.stdout.flush()
            rows.append({"op": op, "shape": [n, c], "threads": a.threads, "xent": r, "others_s": others})
    if a.json:
        json.dump(rows, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()

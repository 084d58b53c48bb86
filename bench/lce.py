#!/usr/bin/env python3
"""Fused linear cross-entropy, forward + backward (loss, d input, d linear_weight), f32,
index targets, mean, side by side in one run:

  xent           examples/lce_bench.rs (ops::linear_cross_entropy_vjp, 64 MiB chunk budget)
  torch ref      F.linear_cross_entropy(..., options=None) + backward(): the logits materialised
  torch chunked  F.linear_cross_entropy(..., options=torch.nn.LinearCrossEntropyOptions()) + backward()

usage: bench/lce.py [--threads 2] [--reps 3] [--shapes 1024x1024x32000,512x2048x128256] [--json OUT]
Build first: cargo build --release --example lce_bench
Medians over REPS runs after a warm-up; GFLOP/s over 3 GEMMs of 2·N·D·V flops (the floor
of forward + backward); the peak extra memory of xent is counted by its allocator, of PyTorch
by torch's CPU allocator statistics where available, else by the RSS growth (ru_maxrss).
"""
import argparse, json, resource, statistics, subprocess, sys, time


def median_time(fn, reps):
    """Median wall seconds and median CPU seconds (all threads) of fn after a warm-up."""
    fn()
    ts, cs = [], []
    for _ in range(reps):
        c = time.process_time()
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
        cs.append(time.process_time() - c)
    return statistics.median(ts), statistics.median(cs)


def torch_run(n, d, v, threads, reps, chunked):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g).requires_grad_(True)
    w = (torch.randn(v, d, generator=g) * 0.05).requires_grad_(True)
    y = (torch.arange(n) * 7919) % v
    opts = torch.nn.LinearCrossEntropyOptions() if chunked else None

    def f():
        x.grad = None
        w.grad = None
        F.linear_cross_entropy(x, w, y, options=opts).backward()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t, cpu = median_time(f, reps)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return t, cpu, (rss1 - rss0) * 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--shapes", default="1024x1024x32000,512x2048x128256")
    ap.add_argument("--bin", default="target/release/examples/lce_bench")
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = []
    for s in a.shapes.split(","):
        n, d, v = (int(t) for t in s.split("x"))
        flops = 3 * 2 * n * d * v
        load0 = open("/proc/loadavg").read().split()[0]
        out = subprocess.run([a.bin, str(n), str(d), str(v), str(a.threads), str(a.reps)], capture_output=True, text=True, check=True)
        xr = json.loads(out.stdout.strip().splitlines()[-1])
        row = {"shape": s, "threads": a.threads, "xent_s": xr["seconds"], "xent_cpu_s": xr["cpu_seconds"], "xent_gflops": xr["gflops"],
               "xent_extra_beyond_grads_MiB": xr["beyond_grads_bytes"] / 2**20}
        for name, chunked in [("torch_ref", False), ("torch_chunked", True)]:
            # each PyTorch path in its own process, so that ru_maxrss growth is its own
            code = (f"import sys; sys.path.insert(0, 'bench'); import lce, json; "
                    f"print(json.dumps(lce.torch_run({n}, {d}, {v}, {a.threads}, {a.reps}, {chunked})))")
            r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            if r.returncode:
                row[name + "_s"] = None
                print(r.stderr[-500:], file=sys.stderr)
                continue
            t, cpu, rss = json.loads(r.stdout.strip().splitlines()[-1])
            row[name + "_s"] = t
            row[name + "_cpu_s"] = cpu
            row[name + "_gflops"] = flops / t / 1e9
            row[name + "_rss_growth_MiB"] = rss / 2**20
            row["ratio_xent_vs_" + name] = xr["seconds"] / t
            row["cpu_ratio_xent_vs_" + name] = xr["cpu_seconds"] / cpu
        row["loadavg_1min_start_end"] = [float(load0), float(open("/proc/loadavg").read().split()[0])]
        rows.append(row)
        print(json.dumps(row), flush=True)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()

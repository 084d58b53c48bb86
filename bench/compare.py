#!/usr/bin/env python3
"""xent against PyTorch (and optionally TensorFlow) in one run: the machine, its floors, the ratios.

usage: bench/compare.py [--bin target/release/xent] [--threads 2] [--reps 10]
                        [--cells float32:65536x10,...] [--ops softmax,...] [--target 1.5]
                        [--tf] [--json OUT]

One run prints, in order:
  1. the machine: CPU model (with the x86 family/model numbers, since a VM often names an
     AMD part only "AMD EPYC"), vector extensions, caches, memory, the ISA xent dispatched,
     and the load average before and after (a shared machine is noisy: compare cpu/wall);
  2. the floors, measured in the same run by `xent bench --membw` at 1 and T threads:
     read and non-temporal-copy bandwidth (GB/s, read + write bytes), and the throughput of
     xent's vector exp on L1-resident data (G exps/s, float32 and float64);
  3. one row per (op, dtype, shape): xent's median (`xent bench OP --shape N,C --dtype D
     --threads T --json`), its CPU time per call (all threads), PyTorch's `out=` kernels and
     its user API on the same kind of data (normal x 3 logits, int64 labels, same dtype),
     each side the median of K calls after a warm-up, timed in R rounds (--rounds, default
     3) with xent and PyTorch back to back and their order alternating, so that the
     machine's drift from minute to minute (large on a shared VM) hits both sides alike;
     the times shown are medians over the rounds, and:
       x out=     PyTorch out= time / xent time, the median of the rounds' ratios (the
                  issue's ratio; "ok" when >= --target),
       % floor    the memory floor / xent time: cross_entropy reads the logits once (read
                  bandwidth); the ops that write an N x C tensor move read + write bytes at
                  the NT-copy bandwidth;
       % exp      the exp bound / xent time: N*C exps at the measured exp throughput (every
                  op here computes one exp per element at least);
     both from the floors at the top, except for the cells the issue judges against a
     floor (cross_entropy and cross_entropy_fwd_bwd on shapes of 256 MiB or more): those
     measure the floors again in each round, next to xent, and show the median over the
     rounds of each round's fraction; under a cell, a line for each round in which
     xent's calls kept fewer than T - 0.5 cores busy (CPU time per call / wall time): the
     host held a vCPU then, or other load ran; small cells also show it from thread
     wake-ups. Such rounds are reported, not dropped (JSON:
     `rounds_short_of_cores`);
  4. a summary: cells meeting the target, and CE forward / fwd+bwd against their floors.

Memory: by default both sides get transparent huge pages for their large buffers: `xent bench`
asks for them (madvise), and PyTorch does with THP_MEM_ALLOC_ENABLE=1, which this script sets
before importing it (numpy, and so the Python package, asks for them on its own). With
--no-huge-pages neither does. The report records the choice and the bytes xent got.

PyTorch out= means its ATen kernels writing into preallocated, already-touched buffers
(_softmax / _log_softmax / nll_loss_forward / nll_loss_backward /
_log_softmax_backward_data with out=), the like-for-like comparison: `xent bench` also
preallocates. Without PyTorch installed it prints xent's numbers alone. PyTorch and
TensorFlow are not dependencies of xent: install them in a throw-away venv
(`pip install torch numpy`, `tensorflow-cpu` for --tf).
"""
import argparse, json, os, platform, statistics, subprocess, sys, time

OPS = ["softmax", "log_softmax", "cross_entropy", "cross_entropy_fwd_bwd"]
CELLS = ("float32:65536x10,float32:8192x1000,float32:4096x32000,float32:1024x128256,"
         "float64:4096x8000,float64:1024x32000")
# Shapes whose N x C tensor is far larger than any cache: the floors are DRAM floors.
LARGE_BYTES = 256 << 20
# The floor goals on the large shapes: % of the memory floor.
FLOOR_GOALS = {"cross_entropy": 70, "cross_entropy_fwd_bwd": 60}


def median_time(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def cpu_info():
    info = {"machine": platform.machine(), "logical_cpus": os.cpu_count()}
    try:
        txt = open("/proc/cpuinfo").read()
        first = txt.split("\n\n")[0]
        kv = dict((k.strip(), v.strip()) for k, _, v in (l.partition(":") for l in first.splitlines()) if k)
        info["model_name"] = kv.get("model name")
        info["vendor"] = kv.get("vendor_id")
        fam, mod = int(kv.get("cpu family", "0")), int(kv.get("model", "0"))
        info["family_model"] = "family %d (0x%x) model %d (0x%x)" % (fam, fam, mod, mod)
        if kv.get("vendor_id") == "AuthenticAMD" and fam == 0x19:
            info["microarchitecture"] = "Zen 4" if mod >= 0x10 else "Zen 3"
        elif kv.get("vendor_id") == "AuthenticAMD" and fam == 0x1A:
            info["microarchitecture"] = "Zen 5"
        flags = set(kv.get("flags", "").split())
        info["simd"] = [f for f in ["avx512f", "avx512bw", "avx512vl", "avx512_bf16", "avx512fp16", "avx2", "fma", "f16c"] if f in flags]
    except OSError:
        pass
    caches = {}
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for d in sorted(os.listdir(base)):
            if d.startswith("index"):
                rd = lambda f: open(os.path.join(base, d, f)).read().strip()
                if rd("type") != "Instruction":
                    caches["L%s" % rd("level")] = rd("size")
    except OSError:
        pass
    info["caches_per_cpu0"] = caches
    try:
        mem = [l for l in open("/proc/meminfo") if l.startswith("MemTotal")][0].split()[1]
        info["memory_gib"] = round(int(mem) / 2**20, 1)
    except (OSError, IndexError):
        pass
    return info


def load():
    try:
        return os.getloadavg()
    except OSError:
        return None


# `xent bench` flags shared by every call (set in main).
XENT_FLAGS = []


def membw(bin_, threads, reps):
    out = subprocess.run([bin_, "bench", "--membw", "--json", "--threads", str(threads), "--reps", str(reps)] + XENT_FLAGS,
                         check=True, capture_output=True, text=True).stdout
    rows = [json.loads(l) for l in out.splitlines() if l.strip()]
    return {r["threads"]: r for r in rows}


def torch_cell(op, n, c, dtype, threads):
    """PyTorch's calls for one cell on prepared buffers: {"out=": f, "API": f}, or {}."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return {}
    torch.set_num_threads(threads)
    dt = getattr(torch, dtype)
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(n, c, generator=g, dtype=torch.float64) * 3).to(dt)
    y = torch.randint(0, c, (n,), generator=g)
    out = torch.empty_like(x).fill_(1)
    lsm = torch.empty_like(x).fill_(1)
    dx = torch.empty_like(x).fill_(1)
    loss = torch.empty((), dtype=dt).fill_(1)
    tw = torch.empty((), dtype=dt).fill_(1)
    go = torch.ones((), dtype=dt)
    mean, ignore = 1, -100
    res = {}
    if op == "softmax":
        res["out="] = lambda: torch._softmax(x, 1, False, out=out)
        res["API"] = lambda: F.softmax(x, 1)
    elif op == "log_softmax":
        res["out="] = lambda: torch._log_softmax(x, 1, False, out=out)
        res["API"] = lambda: F.log_softmax(x, 1)
    elif op == "cross_entropy":
        def f():
            torch._log_softmax(x, 1, False, out=lsm)
            torch.ops.aten.nll_loss_forward.output(lsm, y, None, mean, ignore, output=loss, total_weight=tw)
        res["out="] = f
        res["API"] = lambda: F.cross_entropy(x, y)
    elif op == "cross_entropy_fwd_bwd":
        def f():
            torch._log_softmax(x, 1, False, out=lsm)
            torch.ops.aten.nll_loss_forward.output(lsm, y, None, mean, ignore, output=loss, total_weight=tw)
            torch.ops.aten.nll_loss_backward.grad_input(go, lsm, y, None, mean, ignore, tw, grad_input=out)
            torch.ops.aten._log_softmax_backward_data.out(out, lsm, 1, x.dtype, out=dx)
        res["out="] = f
        xr = x.clone().requires_grad_(True)

        def api():
            xr.grad = None
            F.cross_entropy(xr, y).backward()
        res["API"] = api
    return res


def tf_runs(op, n, c, dtype, threads, reps):
    try:
        import tensorflow as tf
    except ImportError:
        return {}
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    x = tf.cast(tf.random.normal((n, c), seed=0, dtype=tf.float64) * 3, dtype)
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


def short_of_cores(x, threads):
    """The thread count of an `xent bench` JSON `x` whose calls kept fewer than T - 0.5 cores
    busy (CPU time per call against wall time; the kernels split rows evenly), else 0: the
    host held a vCPU (steal), or other load ran. Reported, not dropped (PyTorch's rounds
    have no such check)."""
    t = x.get("threads") or threads
    return t if t > 1 and x.get("cpu_s") and x["cpu_s"] < (t - 0.5) * x["median_s"] else 0


def floors(op, n, c, nbytes, bw, dtype):
    """(memory floor s, exp bound s) of one cell: `nbytes` (the least the op moves, as
    `xent bench` reports it) at the measured bandwidth, N*C exps at the measured rate."""
    gbps = bw["read_gbps"] if op == "cross_entropy" else bw["copy_nt_gbps"]
    mem = nbytes / (gbps * 1e9)
    rate = bw["exp_f32_gps" if dtype != "float64" else "exp_f64_gps"] * 1e9
    return mem, n * c / rate


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="target/release/xent")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cells", default=CELLS, help="dtype:NxC,... (default: the issue's 6 shapes)")
    ap.add_argument("--shapes", help="float32 shapes NxC,... (shorthand for --cells float32:...)")
    ap.add_argument("--ops", default=",".join(OPS))
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3,
                    help="per cell, rounds of xent and PyTorch timed back to back (order alternating); "
                         "times are medians over rounds, the ratio the median of the rounds' ratios")
    ap.add_argument("--target", type=float, default=1.5, help="ratio to PyTorch out= that counts as met")
    ap.add_argument("--tf", action="store_true", help="also time TensorFlow (slow to import)")
    ap.add_argument("--no-huge-pages", action="store_true",
                    help="ordinary 4 KiB pages on both sides (default: transparent huge pages on both)")
    ap.add_argument("--json")
    a = ap.parse_args()
    # read by PyTorch's CPU allocator, so it must be set before torch is imported
    os.environ["THP_MEM_ALLOC_ENABLE"] = "0" if a.no_huge_pages else "1"
    if a.no_huge_pages:
        XENT_FLAGS.append("--no-huge-pages")
    cells = [("float32", s) for s in a.shapes.split(",")] if a.shapes else [tuple(x.split(":")) for x in a.cells.split(",")]

    report = {"cpu": cpu_info(), "threads": a.threads, "load_before": load(), "when_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
              "huge_pages": not a.no_huge_pages}
    try:
        import torch
        report["torch"] = torch.__version__
    except ImportError:
        report["torch"] = None
    cpu = report["cpu"]
    print("# machine")
    print("cpu: %s, %s%s; %s logical CPUs; %s" % (cpu.get("model_name"), cpu.get("family_model"),
          " (%s)" % cpu["microarchitecture"] if "microarchitecture" in cpu else "", cpu.get("logical_cpus"),
          ", ".join(cpu.get("simd", []))))
    print("caches (cpu0): %s; memory %s GiB; PyTorch %s; load average %s" % (
        ", ".join("%s %s" % kv for kv in cpu.get("caches_per_cpu0", {}).items()), cpu.get("memory_gib"), report["torch"],
        " ".join("%.2f" % v for v in report["load_before"] or [])))
    try:
        thp = open("/sys/kernel/mm/transparent_hugepage/enabled").read().strip()
    except OSError:
        thp = "n/a"
    report["thp_mode"] = thp
    print("transparent huge pages: %s (system); this run: %s" % (thp, "off" if a.no_huge_pages else "requested on both sides"))
    bw = membw(a.bin, a.threads, 3)
    report["membw"] = bw
    print("\n# floors (measured now; GB/s count read + write bytes)")
    for t, r in sorted(bw.items()):
        print("threads %d: read %.1f GB/s, NT copy %.1f GB/s, copy %.1f GB/s; exp %.2f G/s float32, %.2f G/s float64" % (
            t, r["read_gbps"], r["copy_nt_gbps"], r["copy_gbps"], r["exp_f32_gps"], r["exp_f64_gps"]))
    bwt = bw[max(bw)]

    print("\n# cells (%d threads; per cell %d rounds of xent and PyTorch back to back, each side the median of %d calls;\n"
          "#  times: medians over the rounds; x out= is the median over the rounds of PyTorch out= time / xent time)" % (a.threads, a.rounds, a.reps))
    hdr = "%-22s %-8s %-12s %9s %9s %9s %9s %8s %4s %7s %6s" % ("op", "dtype", "shape", "xent ms", "cpu ms", "out= ms", "API ms", "x out=", "", "% floor", "% exp")
    if a.tf:
        hdr += " %9s" % "tf ms"
    print(hdr)
    rows = []
    for op in a.ops.split(","):
        for dtype, s in cells:
            n, c = map(int, s.split("x"))
            fns = torch_cell(op, n, c, dtype, a.threads)
            size = {"float32": 4, "float64": 8}.get(dtype, 2)
            large = n * c * size >= LARGE_BYTES
            # the cells judged against a memory floor measure it in each round, next to
            # xent: the VM's bandwidth moves by up to 2x from minute to minute
            own_floor = large and op in FLOOR_GOALS
            rounds = []
            for k in range(a.rounds):
                # xent and PyTorch adjacent in time, the order alternating between rounds,
                # so that a drift of the machine's speed hits both sides alike
                sides = ["floor", "xent", "torch"] if k % 2 == 0 else ["torch", "xent", "floor"]
                rd = {}
                for side in sides:
                    if side == "floor":
                        if own_floor:
                            rd["membw"] = membw(a.bin, a.threads, 2)[a.threads]
                    elif side == "xent":
                        rd["xent"] = json.loads(subprocess.run(
                            [a.bin, "bench", op, "--shape", "%d,%d" % (n, c), "--dtype", dtype, "--threads", str(a.threads),
                             "--reps", str(a.reps), "--json"] + XENT_FLAGS, check=True, capture_output=True, text=True).stdout)
                    else:
                        rd["torch_s"] = {name: median_time(f, a.reps) for name, f in fns.items()}
                if "out=" in rd["torch_s"]:
                    rd["ratio_out"] = rd["torch_s"]["out="] / rd["xent"]["median_s"]
                rd["floor_s"], rd["exp_bound_s"] = floors(op, n, c, rd["xent"]["bytes"], rd.get("membw", bwt), dtype)
                rounds.append(rd)
            del fns
            xs = statistics.median(rd["xent"]["median_s"] for rd in rounds)
            # the round whose xent time is the median one stands for xent (its JSON as it is)
            r = min(rounds, key=lambda rd: abs(rd["xent"]["median_s"] - xs))["xent"]
            pt = {name: statistics.median(rd["torch_s"][name] for rd in rounds) for name in rounds[0]["torch_s"]}
            ratio = statistics.median(rd["ratio_out"] for rd in rounds) if pt else None
            mem = statistics.median(rd["floor_s"] for rd in rounds)
            expb = statistics.median(rd["exp_bound_s"] for rd in rounds)
            # the fractions of the bounds: medians over the rounds of each round's own
            pct_floor = 100 * statistics.median(rd["floor_s"] / rd["xent"]["median_s"] for rd in rounds)
            pct_exp = 100 * statistics.median(rd["exp_bound_s"] / rd["xent"]["median_s"] for rd in rounds)
            tf = tf_runs(op, n, c, dtype, a.threads, a.reps) if a.tf else {}
            line = "%-22s %-8s %-12s %9.3f %9.3f %9s %9s %8s %4s %6.0f%% %5.0f%%" % (
                op, dtype, s, xs * 1e3, (r.get("cpu_s") or 0) * 1e3,
                "%.3f" % (pt["out="] * 1e3) if pt else "-", "%.3f" % (pt["API"] * 1e3) if pt else "-",
                "%.2fx" % ratio if ratio else "-", ("ok" if ratio >= a.target else "MISS") if ratio else "",
                pct_floor, pct_exp)
            if a.tf:
                line += " %9s" % ("%.3f" % (tf["tf"] * 1e3) if tf else "-")
            print(line)
            lost = [k for k, rd in enumerate(rounds) if short_of_cores(rd["xent"], a.threads)]
            for k in lost:
                x = rounds[k]["xent"]
                print("#   round %d: xent kept %.2f of %d cores busy (%.3f ms CPU in %.3f ms): host steal or other load" % (
                    k + 1, x["cpu_s"] / x["median_s"], short_of_cores(x, a.threads), x["cpu_s"] * 1e3, x["median_s"] * 1e3))
            sys.stdout.flush()
            rows.append({"op": op, "dtype": dtype, "shape": [n, c], "xent": r, "xent_s": xs, "torch_s": pt, "tf_s": tf, "ratio_out": ratio,
                         "pct_floor": pct_floor, "pct_exp": pct_exp, "floor_measured_per_round": own_floor,
                         "rounds_short_of_cores": [k + 1 for k in lost],
                         "rounds": [{"xent_s": rd["xent"]["median_s"], "xent_cpu_s": rd["xent"].get("cpu_s"), "torch_s": rd["torch_s"], "ratio_out": rd.get("ratio_out"),
                                     "floor_s": rd["floor_s"], "exp_bound_s": rd["exp_bound_s"], "membw": rd.get("membw")} for rd in rounds],
                         "floor_s": mem, "exp_bound_s": expb, "large": large})
    report["rows"] = rows
    report["load_after"] = load()
    judged = [r for r in rows if r["ratio_out"] is not None]
    print("\n# summary")
    if judged:
        met = [r for r in judged if r["ratio_out"] >= a.target]
        print("cells at >= %.2fx PyTorch out=: %d of %d" % (a.target, len(met), len(judged)))
        for r in judged:
            if r["ratio_out"] < a.target:
                print("  short: %s %s %dx%d at %.2fx" % (r["op"], r["dtype"], r["shape"][0], r["shape"][1], r["ratio_out"]))
    for op, goal in FLOOR_GOALS.items():
        for r in rows:
            if r["op"] == op and r["large"]:
                f, e = r["pct_floor"], r["pct_exp"]
                print("%s %s %dx%d: %.0f%% of the memory floor (goal %d%%), %.0f%% of the exp bound%s" % (
                    op, r["dtype"], r["shape"][0], r["shape"][1], f, goal, e,
                    "" if f >= goal else "; the exp bound is %s the memory floor" % ("above" if r["exp_bound_s"] > r["floor_s"] else "below")))
    print("load average after: %s" % " ".join("%.2f" % v for v in report["load_after"] or []))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()

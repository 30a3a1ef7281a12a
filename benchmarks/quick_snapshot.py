"""Prove a refactor behaviour-preserving: every benchmark's ``--quick`` metrics before and after.

    python benchmarks/quick_snapshot.py snap OUT.json [NAME ...]   # run the quick forms (default: all)
    python benchmarks/quick_snapshot.py compare BEFORE.json AFTER.json

``snap`` runs each benchmark's quick form on the CPU with a throw-away results store and writes
every run's metrics. ``compare`` matches runs by (method, seed, params) and reports every metric
that differs, skipping measured times and what is derived from them (see ``TIMING``); it exits 1
on a difference. Run ``snap`` on the old revision (a checkout with its own venv) and on the new one.
"""
import json
import re
import sys
import tempfile
import time
from pathlib import Path

# Metrics that are measured times or derived from them (Q-Newton's scheduler routes by measured
# Cholesky times, so its routing fractions, cost surfaces and crossover lines move with the clock).
TIMING = re.compile(r"(time|_s$|_ms$|_ns$|seconds|speedup|ratio|per_s|wall|throughput|bandwidth|gbs|_x$|"
                    r"elapsed|sweeps_per|flops|cheaper_cells|crossover|qfrac|measured)", re.I)


def strip(v):
    """Drop timing-like keys inside nested metrics (a schedule is a list of records)."""
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if not TIMING.search(k)}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def snap(out, names):
    import torch
    torch.set_num_threads(2)
    from qtrain.bench import run_benchmark
    from qtrain.bench.registry import available_benchmarks
    from qtrain.bench.store import ResultsStore
    names = names or available_benchmarks()
    result = {}
    for name in names:
        t0 = time.time()
        with tempfile.TemporaryDirectory() as d:
            rep = run_benchmark(name, quick=True, device="cpu", out_dir=Path(d) / "out",
                                store=ResultsStore(Path(d) / "db.sqlite"))
        result[name] = [{"method": r.method, "seed": r.seed, "params": r.params, "metrics": r.metrics}
                        for r in rep.runs]
        print(f"{name}: {len(rep.runs)} runs, {time.time() - t0:.1f} s", flush=True)
        Path(out).write_text(json.dumps(result, indent=1, default=str))


def _runs(records):
    return {(r["method"], r["seed"], json.dumps(r["params"], sort_keys=True)): r["metrics"] for r in records}


def _equal(va, vb):
    if isinstance(va, float) and isinstance(vb, float):
        return abs(va - vb) <= 1e-9 * max(1.0, abs(va))
    return va == vb


def compare(a, b):
    """Print every differing metric of the benchmarks both files hold; return how many differ."""
    A, B = json.loads(Path(a).read_text()), json.loads(Path(b).read_text())
    bad = 0
    for name in sorted(set(A) & set(B)):
        ka, kb = _runs(A[name]), _runs(B[name])
        if set(ka) != set(kb):
            print(f"{name}: task sets differ: {sorted(set(ka) ^ set(kb))[:5]}")
            bad += 1
            continue
        same = checked = skipped = 0
        for k in ka:
            for m in sorted(set(ka[k]) | set(kb[k])):
                if TIMING.search(m):
                    skipped += 1
                    continue
                checked += 1
                va, vb = strip(ka[k].get(m)), strip(kb[k].get(m))
                if _equal(va, vb):
                    same += 1
                else:
                    print(f"  {name} {k[0]} seed={k[1]} {m}: {va!r} -> {vb!r}")
                    bad += 1
        print(f"{name}: {len(ka)} runs, {checked} metrics compared, {same} equal, {skipped} timing metrics skipped")
    for name in sorted(set(A) ^ set(B)):
        print(f"{name}: only in {'A' if name in A else 'B'} (not compared)")
    print("DIFFERENCES:", bad)
    return bad


if __name__ == "__main__":
    if sys.argv[1] == "snap":
        snap(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(1 if compare(sys.argv[2], sys.argv[3]) else 0)

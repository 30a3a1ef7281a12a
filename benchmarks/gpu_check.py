"""`make gpu-check`: every CUDA path in one command, one summary.

Runs the tests marked ``cuda`` (``pytest -m cuda``), then the GPU parts of three benchmarks on
``--device cuda``: ``qubo-speed`` (a-gpu, b-gpu: 1024 reads on the GPU), ``quantum-speed`` (c: one
Grover iteration against the copy bandwidth) and ``sinnn-quantum`` (the 28- and 30-qubit quantum
searches), each under its share of an eight-minute budget, and writes ``summary.md`` and
``summary.json`` (each figure beside its target) into ``--out`` (default ``results/gpu-check``).
Without a CUDA device it says so and exits 0. Exits 1 when a test fails, a part fails or times
out, or a target is missed.

    python benchmarks/gpu_check.py [--out DIR] [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

# benchmark -> (tasks kept, seconds allowed, {metric: (target text, check)})
PARTS = {
    "qubo-speed": (lambda t: "-gpu/" in t.method, 150,
                   {"seconds": ("finishes (1024 reads on the GPU)", lambda v: v > 0)}),
    "quantum-speed": (lambda t: t.params.get("part") == "c", 120,
                      {"max_abs_error": ("fused iteration exact to 1e-5", lambda v: v <= 1e-5)}),
    "sinnn-quantum": (lambda t: t.method == "quantum" and t.params.get("hidden", 0) >= 28, 180,
                      {"success_probability": (">= 0.9 per run (BENCHMARKS.md)", lambda v: v >= 0.9),
                       "found": ("brute-force minimum found", lambda v: v == 1)}),
}


def _part(name: str, keep, limit: float, out: Path) -> dict:
    """Run the GPU tasks of one benchmark in a child process (so a hang is cut at ``limit``)."""
    code = f"""
import json, sys
from qtrain.bench import ResultsStore, get_benchmark, run_benchmark
sys.path.insert(0, {str(Path(__file__).parent)!r})
from gpu_check import PARTS
bench = get_benchmark({name!r})
keep = PARTS[{name!r}][0]
tasks = bench.tasks
bench.tasks = lambda cfg: [t for t in tasks(cfg) if keep(t)]
bench.report = lambda runs, cfg: []
rep = run_benchmark(bench, device="cuda", out_dir={str(out / name)!r},
                    store=ResultsStore({str(out / "gpu-check.sqlite")!r}))
print(json.dumps({{"runs": [{{"method": r.method, "params": r.params, "metrics": r.metrics}} for r in rep.runs],
                  "failed": [{{"method": r.method, "error": r.error}} for r in rep.failed]}}))
"""
    t0 = time.perf_counter()
    try:
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "seconds": limit, "runs": [], "failed": []}
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        return {"status": "error", "seconds": wall, "error": res.stderr.strip().splitlines()[-1:], "runs": [],
                "failed": []}
    data = json.loads(res.stdout.strip().splitlines()[-1])
    return {"status": "ok" if not data["failed"] else "failed", "seconds": wall, **data}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("results/gpu-check"))
    ap.add_argument("--budget", type=float, default=480.0, help="seconds for everything (default 480)")
    args = ap.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("gpu-check: no CUDA device here (torch.cuda.is_available() is False): nothing to check; "
              "run `make gpu-check` on a machine with a GPU")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    t0 = time.perf_counter()
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "0", "-m", "cuda", "-p", "no:cacheprovider"],
                           capture_output=True, text=True, timeout=max(30.0, args.budget / 4))
    last = (tests.stdout.strip().splitlines() or ["(no output)"])[-1]
    summary = {"gpu": torch.cuda.get_device_name(0), "tests": {"returncode": tests.returncode, "line": last,
                                                               "seconds": time.perf_counter() - t0},
               "parts": {}}
    ok = tests.returncode == 0
    lines = [f"# gpu-check on {summary['gpu']}", "", f"tests marked cuda: {last} ({summary['tests']['seconds']:.0f} s)",
             "", "| benchmark | task | metric | measured | target | met |", "|---|---|---|---|---|---|"]
    for name, (keep, limit, targets) in PARTS.items():
        left = args.budget - (time.perf_counter() - start)
        part = _part(name, keep, max(10.0, min(limit, left)), args.out)
        summary["parts"][name] = part
        ok &= part["status"] == "ok"
        if part["status"] != "ok":
            lines.append(f"| {name} | - | - | {part['status']} {part.get('error', part['failed'])} | - | no |")
        for r in part["runs"]:
            for metric, (text, check) in targets.items():
                v = r["metrics"].get(metric)
                met = v is not None and bool(check(v))
                ok &= met
                lines.append(f"| {name} | {r['method']} | {metric} | {v} | {text} | {'yes' if met else 'NO'} |")
            others = {k: v for k, v in r["metrics"].items() if k not in targets and isinstance(v, int | float)}
            lines.append(f"| {name} | {r['method']} | (all) | {json.dumps(others)} | - | - |")
    total = time.perf_counter() - start
    lines += ["", f"total {total:.0f} s (budget {args.budget:.0f} s)"]
    summary["seconds"] = total
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    (args.out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

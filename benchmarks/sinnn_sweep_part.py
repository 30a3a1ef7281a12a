"""Run part of `sinnn-sweep`'s full grid (cells of the full grid, 200 runs each, the same task keys
as `qtrain bench run sinnn-sweep`) on the dask executor, then print each cell's bad-minimum
proportions. Finished cells are taken from the store (resume), so parts add up to the grid.

    python benchmarks/sinnn_sweep_part.py --widths 5,10 --depths 1,2,4 --workers 2 [--scheduler ADDR] [--db FILE]
"""

from __future__ import annotations

import argparse
import json
import time

from qtrain.bench import ResultsStore, run_benchmark
from qtrain.bench.executors import DaskExecutor
from qtrain.bench.sinusoidal.sweep import SinusoidalSweep


class SweepPart(SinusoidalSweep):
    """The full grid's tasks whose width and depth are in the given sets."""

    def __init__(self, widths: set[int], depths: set[int]):
        self.widths, self.depths = widths, depths

    def tasks(self, cfg):
        return [t for t in super().tasks(cfg) if t.params["width"] in self.widths and t.params["depth"] in self.depths]

    def report(self, runs, cfg):
        return []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", default="5,10")
    ap.add_argument("--depths", default="1,2,4")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--scheduler", default=None)
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    part = SweepPart({int(w) for w in args.widths.split(",")}, {int(d) for d in args.depths.split(",")})
    t0 = time.perf_counter()
    rep = run_benchmark(part, device="cpu", out_dir="results/sinnn-sweep-part", store=ResultsStore(args.db),
                        resume=True, executor=DaskExecutor(scheduler=args.scheduler, workers=args.workers))
    print(f"wall {time.perf_counter() - t0:.0f} s, {len(rep.runs)} cells ({rep.skipped} from the store), "
          f"{len(rep.failed)} failed")
    for r in sorted(rep.runs, key=lambda r: (r.method, r.params["width"], r.params["depth"])):
        print(json.dumps({"model": r.method, "N": r.params["width"], "L": r.params["depth"],
                          "bad_train": r.metrics["bad_train"], "bad_test": r.metrics["bad_test"],
                          "task_s": r.wall_s}))


if __name__ == "__main__":  # the guard dask's worker processes need
    main()

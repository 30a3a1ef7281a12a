"""Static HTML reports from the results store: an index, one page per benchmark, comparisons.

A benchmark's page holds the summary table of its latest invocation (mean, standard deviation and
count of every numeric metric per method over the successful runs), a PNG plot of those means, each invocation of
``qtrain bench run`` with its configuration (executor, quick, device, seeds, git revision), the
environment of the latest run (versions, device, platform), every run with its parameters and
metrics, and the failed runs with their errors. A comparison page shows, per method and metric, the
means of two invocations and their difference ``B - A``. The pages are plain HTML and PNG files with
no script, readable from disk or any static web server.

Example:
    >>> files = write_report("report", ["qpsbgd-digits"])        # doctest: +SKIP
    >>> write_comparison("report", "qpsbgd-digits", "3f2a", "9c01")  # doctest: +SKIP
"""

from __future__ import annotations

import html
import json
import math
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qtrain.bench.base import pyplot, save_figure
from qtrain.bench.store import ResultsStore, RunRecord

__all__ = ["compare_invocations", "invocation_of", "metric_stats", "write_comparison", "write_report"]

_STYLE = """body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #bbb;padding:.2em .5em;text-align:right}th{background:#eee}td.l,th.l{text-align:left}
code{font-size:90%}img{max-width:100%}.failed{color:#a00}"""


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else _esc(v)


def _page(title: str, body: list[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_esc(title)}</title><link rel=\"icon\" href=\"data:,\"><style>{_STYLE}</style></head>"
            f"<body><h1>{_esc(title)}</h1>\n" + "\n".join(body) + "\n</body></html>\n")


def _table(table_id: str, header: Sequence[str], rows: list[Sequence[Any]], left: int = 1) -> str:
    """An HTML table; the first ``left`` columns are left-aligned text."""
    cls = [' class="l"' if j < left else "" for j in range(len(header))]
    head = "".join(f"<th{c}>{_esc(h)}</th>" for c, h in zip(cls, header, strict=True))
    body = "".join("<tr>" + "".join(f"<td{c}>{_num(v)}</td>" for c, v in zip(cls, row, strict=True)) + "</tr>"
                   for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def invocation_of(r: RunRecord) -> str:
    """The id of the ``run_benchmark`` call that stored ``r`` (``"-"`` for runs stored before ids)."""
    return str(r.config.get("invocation", "-"))


def _numeric(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def metric_stats(runs: Sequence[RunRecord]) -> dict[str, dict[str, tuple[float, float, int]]]:
    """``method -> metric -> (mean, sample standard deviation, count)`` over successful runs."""
    acc: dict[str, dict[str, list[float]]] = {}
    for r in runs:
        if r.status != "ok":
            continue
        for k, v in r.metrics.items():
            if _numeric(v):
                acc.setdefault(r.method, {}).setdefault(k, []).append(float(v))
    out: dict[str, dict[str, tuple[float, float, int]]] = {}
    for method, ms in acc.items():
        for k, vs in ms.items():
            mean = sum(vs) / len(vs)
            sd = math.sqrt(sum((v - mean) ** 2 for v in vs) / (len(vs) - 1)) if len(vs) > 1 else 0.0
            out.setdefault(method, {})[k] = (mean, sd, len(vs))
    return out


def _plot(path: Path, stats: dict[str, dict[str, tuple[float, float, int]]], title: str) -> Path | None:
    """Bar charts of up to eight metrics' means per method (error bars: one standard deviation)."""
    metrics = sorted({k for ms in stats.values() for k in ms})[:8]
    if not metrics:
        return None
    plt = pyplot()
    cols = min(4, len(metrics))
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    methods = list(stats)
    for ax, m in zip(axes.flat, metrics, strict=False):
        means = [stats[k].get(m, (math.nan, 0.0, 0))[0] for k in methods]
        sds = [stats[k].get(m, (math.nan, 0.0, 0))[1] for k in methods]
        ax.bar(range(len(methods)), means, yerr=sds, color="#4a7ab5")
        ax.set_xticks(range(len(methods)), methods, rotation=45, ha="right", fontsize=7)
        ax.set_title(m, fontsize=9)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(title)
    return save_figure(fig, path)


def _benchmark_page(name: str, runs: list[RunRecord], groups: dict[str, list[RunRecord]], out: Path) -> Path:
    latest = next(reversed(groups))
    stats = metric_stats(groups[latest])
    body = [f'<p><a href="index.html">all benchmarks</a> &middot; {len(runs)} stored run(s)</p>']
    metrics = sorted({k for ms in stats.values() for k in ms})
    body.append(f"<h2>Summary</h2><p>latest invocation <code>{_esc(latest)}</code>: mean &plusmn; standard "
                "deviation (n) over its successful runs (compare two invocations with "
                "<code>qtrain report NAME --compare A B</code>)</p>")
    body.append(_table("summary", ["method", *metrics],
                       [[m, *(f"{ms[k][0]:.4g} ± {ms[k][1]:.2g} ({ms[k][2]})" if k in ms else "" for k in metrics)]
                        for m, ms in stats.items()]))
    img = _plot(out / f"{name}.png", stats, name)
    if img is not None:
        body.append(f'<h2>Plot</h2><img src="{_esc(img.name)}" alt="{_esc(name)} metric means per method">')
    body.append("<h2>Invocations</h2>")
    inv_rows = []
    for inv, rs in groups.items():
        cfg = next((r.config for r in rs if invocation_of(r) == inv), rs[0].config)
        ex = cfg.get("executor", {"name": "serial"})
        inv_rows.append([inv, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(min(r.started for r in rs))),
                         len(rs), sum(r.status != "ok" for r in rs), json.dumps(ex), cfg.get("quick"),
                         cfg.get("device"), rs[0].environment.get("git_revision", "-")[:12]])
    body.append(_table("invocations", ["invocation", "started (UTC)", "runs", "failed", "executor", "quick",
                                       "device", "git revision"], inv_rows, left=1))
    env = runs[0].environment
    env_rows = [[k, env[k]] for k in ("python", "platform", "machine", "cpu_count", "device", "gpu",
                                      "git_revision") if k in env]
    env_rows += [[f"package {k}", v] for k, v in sorted(env.get("packages", {}).items())]
    body.append("<h2>Environment (latest run)</h2>" + _table("environment", ["what", "value"], env_rows, left=2))
    body.append("<h2>Runs</h2>")
    body.append(_table("runs", ["id", "method", "seed", "status", "invocation", "worker", "wall s", "params",
                                "metrics"],
                       [[r.id, r.method, r.seed, r.status, invocation_of(r), r.worker or "-",
                         "-" if r.wall_s is None else r.wall_s, json.dumps(r.params, sort_keys=True),
                         json.dumps(r.metrics, sort_keys=True)] for r in runs], left=9))
    failed = [r for r in runs if r.status != "ok"]
    if failed:
        body.append('<h2 class="failed">Failed runs</h2>')
        body.append(_table("failed", ["id", "method", "seed", "error"],
                           [[r.id, r.method, r.seed, r.error or ""] for r in failed], left=4))
    path = out / f"{name}.html"
    path.write_text(_page(f"qtrain report: {name}", body))
    return path


def _out_dir(out_dir: str | Path) -> Path:
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".qtrain-write-check"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"cannot write the report to {out}: {exc.strerror or exc}") from None
    return out


def _runs_of(store: ResultsStore, name: str) -> list[RunRecord]:
    runs = list(reversed(store.list(name, limit=-1)))
    if not runs:
        raise ValueError(f"no stored runs of benchmark {name!r} in {store.path}; run `qtrain bench run {name}` "
                         "first")
    return runs


def _groups(store: ResultsStore, name: str, runs: list[RunRecord]) -> dict[str, list[RunRecord]]:
    """The runs of each invocation, oldest invocation first: the runs it stored, or, where the store
    recorded it, every run it reported (with ``--resume``, those taken from the store too)."""
    by_id = {r.id: r for r in runs}
    groups: dict[str, list[RunRecord]] = {}
    for r in runs:
        groups.setdefault(invocation_of(r), []).append(r)
    for inv, ids in store.invocations(name).items():
        groups.pop(inv, None)  # re-inserted: ordered by when the invocation finished
        if any(i in by_id for i in ids):
            groups[inv] = [by_id[i] for i in ids if i in by_id]
    last = max(groups, key=lambda inv: max((r.finished for r in groups[inv]), default=0.0))
    if last != next(reversed(groups)):  # an unrecorded invocation ran after the recorded ones
        groups[last] = groups.pop(last)
    return groups


def write_report(out_dir: str | Path, benchmarks: Sequence[str] = (), *,
                 store: ResultsStore | None = None) -> list[Path]:
    """Write ``index.html`` and a page (with its PNG) per benchmark into ``out_dir``.

    Args:
        out_dir: folder (created).
        benchmarks: names to report (default: every benchmark with stored runs).
        store: results store (default at :func:`~qtrain.bench.store.default_db_path`).

    Returns:
        the written files, the index first.

    Raises:
        ValueError: a named benchmark with no stored runs, an empty store, an ``out_dir`` that
            cannot be written.
    """
    store = store if store is not None else ResultsStore()
    names = list(benchmarks) or sorted({r.benchmark for r in store.list(None, limit=-1)})
    if not names:
        raise ValueError(f"no stored runs in {store.path}; run a benchmark first")
    per = {name: _runs_of(store, name) for name in names}
    out = _out_dir(out_dir)
    files = []
    rows = []
    for name, runs in per.items():
        page = _benchmark_page(name, runs, _groups(store, name, runs), out)
        files += [page] + ([out / f"{name}.png"] if (out / f"{name}.png").exists() else [])
        rows.append((name, len(runs), sum(r.status != "ok" for r in runs),
                     len({invocation_of(r) for r in runs}),
                     time.strftime("%Y-%m-%d %H:%M", time.gmtime(max(r.finished for r in runs)))))
    links = "".join(f'<tr><td class="l"><a href="{_esc(n)}.html">{_esc(n)}</a></td><td>{k}</td><td>{f}</td>'
                    f"<td>{i}</td><td>{w}</td></tr>" for n, k, f, i, w in rows)
    index = out / "index.html"
    index.write_text(_page("qtrain benchmark report", [
        f"<p>from <code>{_esc(store.path)}</code></p>",
        '<table id="benchmarks"><thead><tr><th class="l">benchmark</th><th>runs</th><th>failed</th>'
        f"<th>invocations</th><th>latest (UTC)</th></tr></thead><tbody>{links}</tbody></table>"]))
    return [index, *files]


def _select(runs: list[RunRecord], groups: dict[str, list[RunRecord]], ref: str) -> list[RunRecord]:
    """Runs of invocation ``ref``: an invocation id (or a unique prefix) or a run id."""
    invs = sorted(groups)
    if ref.isdigit() and any(r.id == int(ref) for r in runs):
        ref = invocation_of(next(r for r in runs if r.id == int(ref)))
    hits = [i for i in invs if i.startswith(ref)]
    if len(hits) != 1:
        what = "matches no" if not hits else f"matches {len(hits)}"
        raise ValueError(f"{ref!r} {what} invocation of {runs[0].benchmark!r}; known: {invs[:10]}")
    return groups[hits[0]]


def compare_invocations(benchmark: str, a: str, b: str, *, store: ResultsStore | None = None
                        ) -> list[tuple[str, str, float, float, float]]:
    """``(method, metric, mean A, mean B, B - A)`` for every metric both invocations measured.

    ``a`` and ``b`` are invocation ids (a unique prefix is enough; the report's Invocations table
    lists them) or run ids (standing for the invocation that stored them).

    Raises:
        ValueError: no stored runs of ``benchmark``; ``a`` or ``b`` matching no or several invocations.
    """
    store = store if store is not None else ResultsStore()
    runs = _runs_of(store, benchmark)
    groups = _groups(store, benchmark, runs)
    sa, sb = metric_stats(_select(runs, groups, a)), metric_stats(_select(runs, groups, b))
    return [(m, k, sa[m][k][0], sb[m][k][0], sb[m][k][0] - sa[m][k][0])
            for m in sa if m in sb for k in sorted(sa[m]) if k in sb[m]]


def write_comparison(out_dir: str | Path, benchmark: str, a: str, b: str, *,
                     store: ResultsStore | None = None) -> Path:
    """Write ``<benchmark>-compare-<a>-<b>.html``: the metric deltas of two invocations.

    Raises:
        ValueError: as :func:`compare_invocations`; an ``out_dir`` that cannot be written.
    """
    rows = compare_invocations(benchmark, a, b, store=store)
    out = _out_dir(out_dir)
    table = _table("compare", ["method", "metric", f"mean A ({a})", f"mean B ({b})", "B - A", "relative"],
                   [[m, k, va, vb, d, f"{d / abs(va):+.2%}" if va else "-"] for m, k, va, vb, d in rows], left=2)
    tag = "-".join(re.sub(r"[^A-Za-z0-9_]", "_", x) for x in (a, b))
    path = out / f"{benchmark}-compare-{tag}.html"
    path.write_text(_page(f"qtrain: {benchmark}, {a} against {b}",
                          [f'<p><a href="index.html">all benchmarks</a> &middot; <a href="{_esc(benchmark)}.html">'
                           f"{_esc(benchmark)}</a></p>", table]))
    return path

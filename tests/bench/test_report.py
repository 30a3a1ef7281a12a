"""Reports: the pages hold every table, image and configuration; --compare gives exact deltas;
the pages load in headless chromium with no console errors and every image decoded."""

import re
import shutil

import pytest
from typer.testing import CliRunner

from qtrain.bench import Benchmark, ResultsStore, Task, run_benchmark
from qtrain.bench.report import compare_invocations, invocation_of, metric_stats, write_comparison, write_report
from qtrain.cli.main import app


class Scored(Benchmark):
    name = "scored"

    def __init__(self, shift=0.0, fail=False):
        self.shift, self.fail = shift, fail

    def tasks(self, cfg):
        return [Task(m, s, {"k": s}) for m in ("a", "b") for s in cfg.seeds]

    def run_task(self, task, cfg):
        if self.fail and task.seed == 2:
            raise ValueError("boom <script>")
        base = 1.0 if task.method == "a" else 3.0
        return {"acc": base + task.seed + self.shift, "time_s": 0.5, "note": "x"}


@pytest.fixture
def store(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    run_benchmark(Scored(), seeds=3, store=store, out_dir=tmp_path / "o")
    run_benchmark(Scored(shift=0.25, fail=True), seeds=3, store=store, out_dir=tmp_path / "o")
    return store


def _invocations(store):
    runs = list(reversed(store.list("scored", limit=-1)))
    return list(dict.fromkeys(invocation_of(r) for r in runs)), runs


def test_metric_stats_and_compare_are_exact(store):
    (a, b), runs = _invocations(store)
    stats = metric_stats([r for r in runs if invocation_of(r) == a])
    assert stats["a"]["acc"] == (2.0, 1.0, 3)  # seeds 0, 1, 2: mean 2, sample sd 1
    rows = {(m, k): d for m, k, _, _, d in compare_invocations("scored", a, b, store=store)}
    # B lost seed 2 (failed): mean of 1.25, 2.25 against 1, 2, 3
    assert rows[("a", "acc")] == pytest.approx(1.75 - 2.0) and rows[("b", "acc")] == pytest.approx(3.75 - 4.0)
    assert rows[("a", "time_s")] == 0.0 and ("a", "note") not in rows
    first_run_of_b = next(r.id for r in runs if invocation_of(r) == b)
    assert compare_invocations("scored", a[:6], str(first_run_of_b), store=store) == \
        compare_invocations("scored", a, b, store=store)


def test_pages_hold_tables_plot_environment_and_escaped_errors(store, tmp_path):
    files = write_report(tmp_path / "rep", store=store)
    index, page = files[0], tmp_path / "rep" / "scored.html"
    assert index.name == "index.html" and page in files and (tmp_path / "rep" / "scored.png").exists()
    text = page.read_text()
    for table in ("summary", "invocations", "environment", "runs", "failed"):
        assert f'<table id="{table}">' in text
    assert "1.75 ± 0.71 (2)" in text  # method a in the latest invocation (seed 2 failed)
    assert "package torch" in text and "ValueError: boom &lt;script&gt;" in text and "<script>" not in text
    assert 'href="scored.html"' in index.read_text()
    (a, b), _ = _invocations(store)
    cmp = write_comparison(tmp_path / "rep", "scored", a, b, store=store)
    assert '<table id="compare">' in cmp.read_text() and "-0.25" in cmp.read_text()


def test_report_bad_input_one_line_exit_2(store, tmp_path):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, ["report", *map(str, args), "--db", str(store.path)])

    res = run("scored", "--out", tmp_path / "ok")
    assert res.exit_code == 0 and "index.html" in res.output
    (a, b), _ = _invocations(store)
    res = run("scored", "--compare", a[:8], b, "--out", tmp_path / "ok")
    assert res.exit_code == 0 and "scored-compare-" in res.output
    (tmp_path / "file").write_text("")
    for args, message in [(("nothing", "--out", tmp_path / "r"), "no stored runs of benchmark 'nothing'"),
                          (("scored", "--compare", "zzz", "yyy", "--out", tmp_path / "r"), "'zzz' matches no"),
                          (("--compare", "a", "b", "--out", tmp_path / "r"), "exactly one benchmark"),
                          (("scored", "--out", tmp_path / "file" / "sub"), "cannot write the report")]:
        res = run(*args)
        assert res.exit_code == 2 and message in res.output, res.output
        assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def _browser():
    driver_path = shutil.which("chromedriver")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    if webdriver is None or driver_path is None or browser is None:
        pytest.skip("no headless browser: install Debian's chromium and its driver "
                    "(apt-get install -y chromium chromium-driver) and selenium (pip install 'qtrain[report]'); "
                    ".ci/run does this before make test")
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=opts)


def test_pages_load_in_headless_chromium_with_every_table_and_image(store, tmp_path):
    driver = _browser()
    try:
        files = write_report(tmp_path / "rep", store=store)
        (a, b), _ = _invocations(store)
        files.append(write_comparison(tmp_path / "rep", "scored", a, b, store=store))
        for f in (p for p in files if p.suffix == ".html"):
            driver.get(f.resolve().as_uri())
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert errors == [], f"{f.name}: {errors}"
            expected = set(re.findall(r'<table id="(\w+)">', f.read_text()))
            shown = driver.execute_script(
                "return Array.from(document.querySelectorAll('table'))"
                ".filter(t => t.offsetHeight > 0 && t.rows.length > 1).map(t => t.id)")
            assert set(shown) == expected and expected, f.name
            images = driver.execute_script(
                "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.offsetHeight])")
            assert all(c and w > 100 and h > 50 for c, w, h in images), (f.name, images)
            assert (len(images) == 1) == (f.name == "scored.html")
    finally:
        driver.quit()


def test_a_resumed_invocation_is_summarised_whole(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    run_benchmark(Scored(), seeds=2, store=store, out_dir=tmp_path / "o")
    # rerun only method b (shifted): the invocation reports a's stored runs beside b's new ones
    run_benchmark(Scored(shift=1.0), seeds=2, store=store, out_dir=tmp_path / "o", resume=True, rerun=["b"])
    invs = store.invocations("scored")
    assert [len(ids) for ids in invs.values()] == [4, 4]
    first, second = invs
    rows = {(m, k): d for m, k, _, _, d in compare_invocations("scored", first, second, store=store)}
    assert rows[("a", "acc")] == 0.0 and rows[("b", "acc")] == pytest.approx(1.0)
    write_report(tmp_path / "rep", store=store)
    text = (tmp_path / "rep" / "scored.html").read_text()
    assert "1.5 ± 0.71 (2)" in text and "4.5 ± 0.71 (2)" in text  # a from the store, b rerun


def test_a_store_without_the_invocations_table_still_reports(tmp_path):
    import sqlite3

    store = ResultsStore(tmp_path / "r.sqlite")
    run_benchmark(Scored(), seeds=2, store=store, out_dir=tmp_path / "o")
    with sqlite3.connect(store.path) as con:  # as written before invocations were recorded
        con.execute("DROP TABLE invocations")
    ro = ResultsStore(store.path, readonly=True)
    assert ro.invocations("scored") == {}
    write_report(tmp_path / "rep", store=ro)
    assert "1.5 ± 0.71 (2)" in (tmp_path / "rep" / "scored.html").read_text()

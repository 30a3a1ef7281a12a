"""The code a newcomer copies from README.md and docs/architecture.md runs as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "docs/architecture.md")


def _blocks():
    for doc in DOCS:
        text = (ROOT / doc).read_text()
        for i, code in enumerate(re.findall(r"```python\n(.*?)```", text, re.S)):
            yield pytest.param(code, id=f"{doc}:{i}")


@pytest.mark.parametrize("code", list(_blocks()))
def test_python_blocks_run(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # anything a block writes stays in a temporary folder
    exec(compile(code, "<doc>", "exec"), {"__name__": "__doc_example__"})


def test_the_docs_link_each_other_and_name_every_kit():
    readme = (ROOT / "README.md").read_text()
    arch = (ROOT / "docs/architecture.md").read_text()
    assert "docs/architecture.md" in readme
    for kit in ("assert_sampler_conforms", "assert_linear_solver_conforms",
                "assert_search_solver_conforms", "assert_optimizer_conforms"):
        assert kit in arch, kit


def test_errors_page_is_linked_and_states_the_codes_limits():
    from qtrain.quantum.samplers import GroverSampler, QAOASampler
    from qtrain.qubo.exact import ExactSampler

    readme = (ROOT / "README.md").read_text()
    errors = (ROOT / "docs/errors.md").read_text()
    assert "docs/errors.md" in readme
    for code in ("| 0 |", "| 2 |", "| 130 |"):
        assert code in errors, code
    limits = {"`exact`": ExactSampler().max_variables, "`grover`": GroverSampler().max_variables,
              "`qaoa`": QAOASampler().max_variables}
    for name, n in limits.items():
        assert f"{name}: {n}" in errors, (name, n)
    assert "1.8e308" in errors and "[0, 2**31)" in errors and "B R (9 n + 16)" in errors

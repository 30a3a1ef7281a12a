"""Layering: qubo, quantum, linalg and nn never import train, bench or cli (import-linter)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        pytest.fail("import-linter is a dev dependency: pip install -e '.[dev]'")
    res = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert " 0 broken" in res.stdout


def test_core_packages_import_without_heavy_sdks():
    code = ("import sys, qtrain.qubo, qtrain.quantum, qtrain.bench, qtrain.cli.main; "
            "bad = [m for m in ('qiskit', 'dwave.system', 'openjij', 'dask') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

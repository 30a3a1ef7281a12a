"""qiskit-backends: the noisy fake back-end's success drop is measured, and an IBM token set in the
environment never reaches the store, the output or the environment record."""

import pytest

pytest.importorskip("qiskit_ibm_runtime", reason="needs the qiskit extra: pip install 'qtrain[qiskit]'")

from qtrain.bench import ResultsStore, run_benchmark  # noqa: E402
from qtrain.bench.backends import QiskitBackends  # noqa: E402

FAKE_TOKEN = "FAKE-TOKEN-fedcba9876543210"


class GroverOnly(QiskitBackends):
    def tasks(self, cfg):
        return [t for t in super().tasks(cfg) if t.params["circuit"] == "grover"]


def test_noisy_drop_measured_and_no_token_stored_or_printed(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QISKIT_IBM_TOKEN", FAKE_TOKEN)
    store = ResultsStore(tmp_path / "r.sqlite")
    report = run_benchmark(GroverOnly(), quick=True, seeds=1, store=store, out_dir=tmp_path)
    aer, fake = report.summary["grover/aer"], report.summary["grover/FakeManilaV2"]
    sd = (aer["ideal_success"] * (1 - aer["ideal_success"]) / 2000) ** 0.5
    assert aer["ideal_success"] == pytest.approx(0.9453, abs=1e-4)  # 2 iterations over 8 states, one marked
    assert abs(aer["drop"]) < 4 * sd and fake["drop"] > 10 * sd
    assert fake["two_qubit_gates"] > aer["two_qubit_gates"]
    assert FAKE_TOKEN.encode() not in store.path.read_bytes()
    out = capsys.readouterr()
    assert FAKE_TOKEN not in out.out + out.err
    assert FAKE_TOKEN not in str(report.to_json()) and FAKE_TOKEN not in str(report.runs[0].environment)

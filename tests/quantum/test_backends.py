"""Qiskit back-ends: on AerSimulator the measured distribution matches qtrain's statevector (a
chi-square test at level 0.001), a noisy fake IBM back-end lowers the success probability, the
QAOA sampler and the Durr-Hoyer solver run there, bad input is named before transpiling, and no
IBM token leaks into errors."""

import pytest
import torch

pytest.importorskip("qiskit_aer", reason="needs the qiskit extra: pip install 'qtrain[qiskit]'")
from scipy.stats import chisquare  # noqa: E402

from qtrain.quantum import backends  # noqa: E402
from qtrain.quantum.builders import grover_circuit, phase_oracle, qaoa_circuit  # noqa: E402
from qtrain.quantum.samplers import QAOASampler  # noqa: E402
from qtrain.quantum.search_solvers import get_search_solver  # noqa: E402
from qtrain.qubo import QUBO  # noqa: E402

ALPHA = 0.001  # the chi-square level: a correct back-end fails it one time in a thousand


def _chi2_pvalue(counts, probs, shots):
    """Pearson's chi-square of counts against ``shots * probs``; states expected < 5 times pooled."""
    expected = probs.double() * shots
    observed = torch.zeros_like(expected)
    for k, v in counts.items():
        observed[k] = v
    big = expected >= 5
    rest_obs, rest_exp = float(observed[~big].sum()), float(expected[~big].sum())
    if rest_exp < 1:  # states the statevector says (almost) never occur must not occur
        assert rest_obs <= 2, (rest_obs, rest_exp)
    obs = observed[big].tolist() + ([rest_obs] if rest_exp >= 1 else [])
    exp = expected[big].tolist() + ([rest_exp] if rest_exp >= 1 else [])
    scale = sum(obs) / sum(exp)  # float rounding of the probabilities
    return chisquare(obs, [e * scale for e in exp]).pvalue


@pytest.fixture(scope="module")
def aer():
    return backends.get_backend("aer")


@pytest.fixture(scope="module")
def manila():
    pytest.importorskip("qiskit_ibm_runtime", reason="needs the qiskit extra: pip install 'qtrain[qiskit]'")
    return backends.get_backend("fake:FakeManilaV2")


def _qubo(n, seed):
    gen = torch.Generator().manual_seed(seed)
    return QUBO(torch.randn(n, n, generator=gen, dtype=torch.float64))


def test_qaoa_and_grover_on_aer_match_the_statevector_chi_square(aer):
    qaoa = qaoa_circuit(_qubo(4, 1), [0.7, 0.3], [0.4, 0.2])
    costs = torch.tensor([3.0, 1.0, 4.0, -1.0, 5.0, 9.0, 2.0, 6.0])
    grover = grover_circuit(phase_oracle(costs, 2.5), 1)  # three marked of 8: every state occurs
    shots = 4000
    runs = backends.run_circuits([qaoa, grover], aer, shots, seed=7)
    for circ, run in zip((qaoa, grover), runs, strict=True):
        probs = circ.run(device="cpu").probabilities()
        assert sum(run.counts.values()) == shots and run.outcomes.shape == (shots,)
        assert _chi2_pvalue(run.counts, probs, shots) > ALPHA
        assert run.info["backend"] == "aer_simulator" and run.info["shots"] == shots
        assert run.info["depth"] > 0 and run.info["two_qubit_gates"] >= 0
    assert runs[0].info["two_qubit_gates"] > 0  # the cost layer's CP gates survive transpiling
    again = backends.run_circuits([qaoa], aer, shots, seed=7)[0]
    assert again.counts == runs[0].counts  # seeded


def test_a_wrong_distribution_fails_the_chi_square(aer):
    costs = torch.tensor([3.0, 1.0, 4.0, -1.0, 5.0, 9.0, 2.0, 6.0])
    run = backends.run_circuits([grover_circuit(phase_oracle(costs, 1.5), 1)], aer, 4000, seed=7)[0]
    wrong = grover_circuit(phase_oracle(costs, 1.5), 2).run(device="cpu").probabilities()
    assert _chi2_pvalue(run.counts, wrong, 4000) < ALPHA  # the test has power


def test_noisy_fake_backend_lowers_the_grover_success_probability(aer, manila):
    costs = torch.tensor([3.0, 1.0, 4.0, -1.0, 5.0, 9.0, 2.0, 6.0])
    circ = grover_circuit(phase_oracle(costs, 0.0), 2)  # one marked of 8: p = 0.945
    ideal = float(circ.run(device="cpu").probabilities()[3])
    shots = 2000
    clean, noisy = (backends.run_circuits([circ], b, shots, seed=3)[0] for b in (aer, manila))
    p_clean, p_noisy = clean.counts.get(3, 0) / shots, noisy.counts.get(3, 0) / shots
    sd = (ideal * (1 - ideal) / shots) ** 0.5
    assert abs(p_clean - ideal) < 4 * sd
    assert p_noisy < ideal - 10 * sd, (ideal, p_noisy)
    assert noisy.info["backend"] == "fake_manila" and noisy.info["two_qubit_gates"] > 0


def test_qaoa_sampler_on_a_backend(aer):
    qubo = QUBO.stack([_qubo(3, 2), _qubo(3, 3)])
    sampler = QAOASampler(p=1, steps=30, restarts=2)
    res = sampler.sample_qubo_batch(qubo, num_reads=8, seed=0, return_all=True, backend=aer, shots=3000)
    info = res.info
    assert res.samples.shape == (2, 8, 3)
    assert info["backend"]["name"] == "aer_simulator" and info["backend"]["shots"] == 3000
    assert {"depth", "two_qubit_gates", "qubits"} <= set(info["backend"])
    for ideal, sampled in zip(info["success_probability"], info["sampled_success_probability"], strict=True):
        assert abs(sampled - ideal) < 4 * (ideal * (1 - ideal) / 3000) ** 0.5 + 1e-9
    for b in range(2):  # the reads' energies are the energies of the measured bit strings
        assert torch.allclose(res.energies[b], qubo[b].energy(res.samples[b]))
        assert sum(info["counts"][b].values()) == 3000
    plain = sampler.sample_qubo_batch(qubo, num_reads=8, seed=0)
    assert plain.info["gammas"] == info["gammas"]  # the same optimised angles


def test_durr_hoyer_and_threshold_search_on_a_backend(aer):
    gen = torch.Generator().manual_seed(5)
    costs = torch.randn(3, 8, generator=gen, dtype=torch.float64)
    res = get_search_solver("durr-hoyer").search(costs, seed=1, backend=aer, shots=4, max_oracle_calls=12)
    assert res.index.tolist() == costs.argmin(-1).tolist() and all(res.info["found"])
    assert res.info["backend"]["name"] == "aer_simulator" and res.info["backend"]["shots"] == 4
    assert res.info["resources"]["qubits"] == 3 and max(res.info["oracle_calls"]) >= 12
    again = get_search_solver("durr-hoyer").search(costs, seed=1, backend=aer, shots=4, max_oracle_calls=12)
    assert again.info["rounds"] == res.info["rounds"]
    thr = get_search_solver("grover-threshold").search(costs, seed=2, threshold=-0.5, backend=aer, shots=8)
    assert all((costs[b, i] < -0.5) == f for b, (i, f) in enumerate(zip(thr.index, thr.info["found"], strict=True)))


def test_bad_input_is_named_before_any_work(aer, manila, monkeypatch):
    import qtrain.quantum.samplers as samplers

    monkeypatch.setattr(samplers, "qaoa", lambda *a, **k: pytest.fail("optimised before the check"))
    with pytest.raises(ValueError, match="back-end 'fake_manila' has 5 qubits; the circuit needs 6"):
        QAOASampler().sample_qubo_batch(_qubo(6, 0), backend=manila)
    with pytest.raises(ValueError, match="has 5 qubits; the circuit needs 6"):
        get_search_solver("durr-hoyer").search(torch.randn(64), seed=0, backend=manila)
    for shots in (0, -3):
        with pytest.raises(ValueError, match=f"shots must be a positive integer, got {shots}"):
            QAOASampler().sample_qubo_batch(_qubo(2, 0), backend=aer, shots=shots)
        with pytest.raises(ValueError, match="shots must be a positive integer"):
            get_search_solver("durr-hoyer").search(torch.randn(4), seed=0, backend=aer, shots=shots)
    with pytest.raises(ValueError, match="shots applies to a back-end run"):
        QAOASampler().sample_qubo_batch(_qubo(2, 0), shots=10)
    with pytest.raises(TypeError, match="backend must be a qiskit BackendV2"):
        QAOASampler().sample_qubo_batch(_qubo(2, 0), backend="ibm_brisbane")
    with pytest.raises(ValueError, match="unknown back-end 'quantinuum'"):
        backends.get_backend("quantinuum")
    with pytest.raises(ValueError, match="no fake back-end 'FakeNowhere'"):
        backends.get_backend("fake:FakeNowhere")


FAKE_TOKEN = "FAKE-TOKEN-0123456789abcdef"


def test_the_ibm_token_never_appears_in_errors(monkeypatch):
    runtime = pytest.importorskip("qiskit_ibm_runtime")

    class EchoingService:
        """A service whose error quotes the token it read from its configuration."""

        @staticmethod
        def saved_accounts():
            return {"default": {"token": FAKE_TOKEN, "channel": "ibm_quantum_platform"}}

        def __init__(self):
            raise RuntimeError(f"401 Unauthorized for token {FAKE_TOKEN}")

    monkeypatch.setattr(runtime, "QiskitRuntimeService", EchoingService)
    monkeypatch.setenv("QISKIT_IBM_TOKEN", FAKE_TOKEN)
    with pytest.raises(ValueError) as err:
        backends.get_backend("ibm:ibm_brisbane")
    assert FAKE_TOKEN not in str(err.value) and "***" in str(err.value)
    assert err.value.__suppress_context__  # raised from None: a traceback never shows the original
    assert "cannot open IBM back-end 'ibm_brisbane'" in str(err.value)

"""Cost models (swappable objects) for the two branches of a Newton solve.

Quantum: the expected query count of Jennings et al.'s QLSA (arXiv:2305.11352, Theorem 1), gates
per query of a sparse-access block encoding, a hardware profile from
:mod:`qtrain.quantum.resources`, and optional state-preparation, block-encoding-construction and
read-out (tomography) terms. Classical: a measured, synchronised Cholesky solve on the device, or
the analytic ``(1/3) N^3 / FLOPS``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import torch

from qtrain._device import synchronize
from qtrain.quantum.resources import HardwareProfile, get_profile

__all__ = ["KAPPA_MIN", "EPS_MAX", "ClassicalCostModel", "QLSACostModel", "qlsa_queries"]

#: Validity domain of Jennings et al.'s Theorem 1: kappa >= sqrt(12) and eps <= 0.24.
KAPPA_MIN = math.sqrt(12.0)
EPS_MAX = 0.24


def _as_f64(v: Any) -> torch.Tensor:
    return torch.as_tensor(v, dtype=torch.float64)


def qlsa_queries(a: Any, kappa: Any, eps: Any, variant: str = "jennings") -> Any:
    r"""Expected number of block-encoding queries of the QLSA of Jennings et al. (Theorem 1).

    .. math::
        Q^* = \frac{1741 a e}{500}\sqrt{\kappa^2+1}\Big[\big(\tfrac{133}{125}
        + \tfrac{4}{25\kappa^{1/3}}\big)\pi\ln(2\kappa+3) + 1\Big]
        + \frac{351}{50}\ln^2(2\kappa+3)\Big[\ln\frac{451\ln^2(2\kappa+3)}{\epsilon} + 1\Big]
        + a\kappa\ln\frac{32}{\epsilon},
        \qquad \mathbb{E}[Q] = \frac{Q^*}{0.39 - 0.204\,\epsilon}

    (natural logarithms). ``variant="published"`` multiplies by ``a`` once more, as the Q-Newton
    authors' code did (arXiv:2405.00252); it is kept for comparison, not as the default.

    Args:
        a: block-encoding subnormalisation (``a = d`` for a d-sparse matrix with entries scaled
            to at most 1); ``a >= 1``. Float or tensor (broadcast).
        kappa: condition number, ``kappa >= sqrt(12)``.
        eps: target error of the normalised solution, ``0 < eps <= 0.24``.
        variant: ``"jennings"`` or ``"published"``.

    Returns:
        The expected query count: a float for float inputs, else a float64 tensor.

    Raises:
        ValueError: an argument outside the theorem's validity domain, or an unknown variant.

    Example:
        >>> round(qlsa_queries(1, 10, 0.01))
        5693

    References:
        Jennings, Lostaglio, Pallister, Sornborger, Subasi, arXiv:2305.11352, Theorem 1.
    """
    if variant not in ("jennings", "published"):
        raise ValueError(f"variant must be 'jennings' or 'published', got {variant!r}")
    scalar = all(isinstance(v, int | float) for v in (a, kappa, eps))
    a_, k, e = _as_f64(a), _as_f64(kappa), _as_f64(eps)
    for name, v in (("a", a_), ("kappa", k), ("eps", e)):
        if not bool(torch.isfinite(v).all()):
            raise ValueError(f"{name} must be finite, got {v.tolist()}")
    if bool((a_ < 1).any()):
        raise ValueError(f"a (the subnormalisation) must be >= 1, got min {float(a_.min()):.4g}")
    if bool((k < KAPPA_MIN * (1 - 1e-12)).any()):
        raise ValueError(f"kappa must be >= sqrt(12) = {KAPPA_MIN:.4f} (validity domain of "
                         f"Jennings et al. Theorem 1), got min {float(k.min()):.4g}")
    if bool(((e <= 0) | (e > EPS_MAX)).any()):
        raise ValueError(f"eps must be in (0, {EPS_MAX}] (validity domain of Jennings et al. "
                         f"Theorem 1), got {e.tolist()}")
    L = torch.log(2 * k + 3)
    q = (1741 * a_ * math.e / 500 * torch.sqrt(k * k + 1)
         * ((133 / 125 + 4 / (25 * k ** (1 / 3))) * math.pi * L + 1)
         + 351 / 50 * L**2 * (torch.log(451 * L**2 / e) + 1)
         + a_ * k * torch.log(32 / e))
    q = q / (0.39 - 0.204 * e)
    if variant == "published":
        q = q * a_
    return float(q) if scalar else q


def _ceil_log2(v: torch.Tensor) -> torch.Tensor:
    return torch.ceil(torch.log2(v.clamp_min(1.0))).clamp_min(1.0)


@dataclass
class QLSACostModel:
    r"""Projected hardware time of one quantum linear solve, with every term stated.

    Per block of size ``N``, sparsity ``d`` and condition number ``kappa``:

    * queries ``Q = qlsa_queries(a=d, kappa, eps, variant)``; ``kappa < sqrt(12)`` is priced as
      ``sqrt(12)`` (``Q`` grows with ``kappa``, so this is an upper bound) when ``kappa_floor``;
    * gates per query of a sparse-access block encoding (Gilyén, Su, Low, Wiebe,
      arXiv:1806.01838, Lemma 48) with QRAM-style oracles, ``n = ceil(log2 N)``,
      ``m = ceil(log2 d)``, ``b`` bits per entry: Toffolis ``8 (n + m) + b^2 / 2`` (two
      column-index oracles and the entry-to-angle arithmetic) and Clifford layers
      ``4 (n + m) + 2 b``; a query takes ``T_q = tof t_toffoli + cliff t_2q qec_overhead``;
    * state preparation of ``|b>`` (``state_prep``): ``N`` two-qubit gates per query
      (amplitude encoding, Shende, Bullock, Markov, arXiv:quant-ph/0406176), since the
      adiabatic-walk QLSA reflects about ``|b>`` at every step;
    * block-encoding construction (``block_encoding``): loading the ``N d`` entries into a QRAM,
      one Clifford layer per entry;
    * read-out (``readout``): tomography of the ``N``-dimensional solution to error ``eps``
      needs ``N / eps^2`` repetitions of the whole run (arXiv:1812.00954 for the scaling), each
      ending in a measurement and reset.

    Args:
        profile: hardware profile name or object (:func:`qtrain.quantum.resources.get_profile`).
        eps: target error of the normalised solution.
        variant: query-count variant (``"jennings"`` or ``"published"``).
        bits: entry precision ``b``.
        state_prep, block_encoding, readout: include those terms.
        kappa_floor: price ``kappa < sqrt(12)`` at ``sqrt(12)`` instead of refusing it.
    """

    profile: str | HardwareProfile = "today"
    eps: float = 0.01
    variant: str = "jennings"
    bits: int = 16
    state_prep: bool = True
    block_encoding: bool = False
    readout: bool = False
    kappa_floor: bool = True

    def __post_init__(self) -> None:
        self.profile = get_profile(self.profile)
        if not 0 < self.eps <= EPS_MAX:
            raise ValueError(f"eps must be in (0, {EPS_MAX}], got {self.eps}")
        if self.bits < 1:
            raise ValueError(f"bits must be >= 1, got {self.bits}")
        if self.variant not in ("jennings", "published"):
            raise ValueError(f"variant must be 'jennings' or 'published', got {self.variant!r}")

    def queries(self, kappa: Any, d: Any) -> torch.Tensor:
        """Expected block-encoding queries per run, with ``a = d``."""
        k = _as_f64(kappa)
        if self.kappa_floor:
            k = k.clamp_min(KAPPA_MIN)
        return _as_f64(qlsa_queries(_as_f64(d).clamp_min(1.0), k, self.eps, self.variant))

    def gates_per_query(self, N: Any, d: Any) -> dict[str, torch.Tensor]:
        """Toffolis and Clifford layers per query (see the class docstring for the formula)."""
        nm = _ceil_log2(_as_f64(N)) + torch.ceil(torch.log2(_as_f64(d).clamp_min(1.0)))
        return {"toffoli": 8 * nm + self.bits**2 / 2, "clifford": 4 * nm + 2 * self.bits}

    def cost(self, N: Any, kappa: Any, d: Any) -> dict[str, torch.Tensor]:
        """Every term of the projected time (seconds) per block, and their ``total_s``.

        Returns:
            ``queries``, ``toffoli_per_query``, ``clifford_per_query``, ``query_s``,
            ``run_s`` (queries x query time, plus state preparation when included),
            ``state_prep_s``, ``block_encoding_s``, ``readout_repetitions``, ``readout_s``
            (the extra time of the repetitions and measurements), ``total_s``; float64 tensors
            broadcast over the inputs.
        """
        p = self.profile
        N_ = _as_f64(N)
        q = self.queries(kappa, d)
        g = self.gates_per_query(N_, d)
        t_cliff = p.t_2q * p.qec_overhead
        query_s = g["toffoli"] * p.t_toffoli + g["clifford"] * t_cliff
        prep_s = q * N_ * t_cliff if self.state_prep else torch.zeros_like(q)
        run_s = q * query_s + prep_s
        be_s = (N_ * _as_f64(d) * t_cliff if self.block_encoding else torch.zeros_like(q))
        qubits = _ceil_log2(N_)
        shot_s = run_s + p.t_measure + p.t_reset
        reps = N_ / self.eps**2 if self.readout else torch.ones_like(N_)
        readout_s = (reps * shot_s - run_s if self.readout else torch.zeros_like(q))
        total = run_s + be_s + readout_s
        out = {"queries": q, "toffoli_per_query": g["toffoli"], "clifford_per_query": g["clifford"],
               "query_s": query_s, "run_s": run_s, "state_prep_s": prep_s,
               "block_encoding_s": be_s, "readout_repetitions": reps, "readout_s": readout_s,
               "system_qubits": qubits, "total_s": total}
        return {k: torch.broadcast_to(v, torch.broadcast_shapes(*(t.shape for t in out.values())))
                for k, v in out.items()}

    def time(self, N: Any, kappa: Any, d: Any) -> torch.Tensor:
        """Projected seconds per block (``cost(...)["total_s"]``)."""
        return self.cost(N, kappa, d)["total_s"]

    def describe(self) -> dict[str, Any]:
        """The model's settings, JSON-serialisable (for logs and result tables)."""
        return {"profile": self.profile.name, "eps": self.eps, "variant": self.variant,
                "bits": self.bits, "state_prep": self.state_prep,
                "block_encoding": self.block_encoding, "readout": self.readout}


class ClassicalCostModel:
    """Seconds of a classical Cholesky solve of one ``N x N`` block.

    ``mode="measured"``: the median wall time of ``repeats`` Cholesky factorisations and solves
    of a random SPD block on ``device`` (synchronised on CUDA), cached per ``(N, dtype, device)``.
    ``mode="analytic"``: ``(1/3) N^3 / flops`` (Cholesky's leading term; Golub & Van Loan,
    *Matrix Computations*, Alg. 4.2.1) with ``flops`` given or calibrated once from a timed
    matrix product.

    Args:
        mode: ``"measured"`` or ``"analytic"``.
        device: where to measure.
        dtype: precision of the measured solves.
        flops: sustained floating-point rate for the analytic model (default: calibrated).
        repeats: timed repetitions per size (measured mode).
    """

    def __init__(self, mode: str = "measured", device: str | torch.device = "cpu",
                 dtype: torch.dtype = torch.float64, flops: float | None = None,
                 repeats: int = 3):
        if mode not in ("measured", "analytic"):
            raise ValueError(f"mode must be 'measured' or 'analytic', got {mode!r}")
        if flops is not None and not flops > 0:
            raise ValueError(f"flops must be positive, got {flops}")
        if repeats < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        self.mode, self.device, self.dtype = mode, torch.device(device), dtype
        self.flops, self.repeats = flops, repeats
        self._cache: dict[int, float] = {}

    def _measure(self, N: int) -> float:
        if N not in self._cache:
            g = torch.Generator().manual_seed(N)
            X = torch.randn(N, N, generator=g, dtype=self.dtype).to(self.device)
            A = X @ X.mT / N + torch.eye(N, dtype=self.dtype, device=self.device)
            b = torch.ones(N, 1, dtype=self.dtype, device=self.device)
            times = []
            for _ in range(self.repeats + 1):  # the first call warms up kernels
                synchronize(self.device)
                t0 = time.perf_counter()
                torch.cholesky_solve(b, torch.linalg.cholesky(A))
                synchronize(self.device)
                times.append(time.perf_counter() - t0)
            self._cache[N] = float(sorted(times[1:])[len(times[1:]) // 2])
        return self._cache[N]

    def calibrated_flops(self) -> float:
        """The analytic model's rate: given, or ``2 n^3 / t`` of a timed 512 x 512 product."""
        if self.flops is None:
            n = 512
            X = torch.randn(n, n, dtype=self.dtype, device=self.device)
            X @ X
            synchronize(self.device)
            t0 = time.perf_counter()
            for _ in range(3):
                X @ X
            synchronize(self.device)
            self.flops = 3 * 2 * n**3 / (time.perf_counter() - t0)
        return self.flops

    def time(self, N: Any) -> torch.Tensor:
        """Seconds per block for each size in ``N`` (float64 tensor of ``N``'s shape)."""
        N_ = _as_f64(N)
        if self.mode == "analytic":
            return N_**3 / 3 / self.calibrated_flops()
        flat = [self._measure(int(n)) for n in N_.reshape(-1).tolist()]
        return torch.tensor(flat, dtype=torch.float64).reshape(N_.shape)

    def describe(self) -> dict[str, Any]:
        """The model's settings, JSON-serialisable."""
        return {"mode": self.mode, "device": str(self.device), "flops": self.flops}

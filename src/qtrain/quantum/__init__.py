"""qtrain.quantum: statevector engine, circuits, search and estimation, resources.

Two levels of the same algorithms: gate level (:class:`Circuit` on :class:`Statevector`, exportable
to Qiskit and OpenQASM 3) and semantic level (Grover, BBHT, Durr-Hoyer minimum search, phase
estimation and QAOA on diagonal oracles, computed directly on the search register's amplitudes).
"""

from qtrain.quantum.circuit import Circuit, Register
from qtrain.quantum.gates import Gate, gate_matrix
from qtrain.quantum.phase_estimation import phase_estimation_distribution
from qtrain.quantum.resources import (
    HardwareProfile,
    Resources,
    available_profiles,
    get_profile,
    projected_time,
    tts99,
)
from qtrain.quantum.search import (
    GroverResult,
    MinimumSearchResult,
    bbht_search,
    dh_budget,
    grover_probabilities,
    grover_probability,
    grover_search,
    minimum_search,
)
from qtrain.quantum.statevector import Statevector, check_memory, max_qubits

__all__ = [
    "Circuit",
    "Gate",
    "GroverResult",
    "HardwareProfile",
    "MinimumSearchResult",
    "Register",
    "Resources",
    "Statevector",
    "available_profiles",
    "bbht_search",
    "check_memory",
    "dh_budget",
    "gate_matrix",
    "get_profile",
    "grover_probabilities",
    "grover_probability",
    "grover_search",
    "max_qubits",
    "minimum_search",
    "phase_estimation_distribution",
    "projected_time",
    "tts99",
]

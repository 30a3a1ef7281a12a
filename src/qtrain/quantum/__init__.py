"""qtrain.quantum: statevector engine, circuits, search and estimation, search solvers, resources.

Two levels of the same algorithms: gate level (:class:`Circuit` of :class:`Gate` on
:class:`Statevector`, built from :mod:`~qtrain.quantum.builders` and reversible
:mod:`~qtrain.quantum.arithmetic`, exportable to Qiskit and OpenQASM 3) and semantic level (Grover,
BBHT and Durr-Hoyer minimum search in :mod:`~qtrain.quantum.search`, phase estimation in
:mod:`~qtrain.quantum.phase_estimation`, QAOA, on diagonal oracles, computed directly on the search
register's amplitudes). Search solvers (:func:`get_search_solver`) put the searches behind one
interface, ``search(costs) -> SearchResult``.
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
from qtrain.quantum.search_solvers import (
    DurrHoyerSolver,
    ExhaustiveSearchSolver,
    GroverThresholdSolver,
    SearchResult,
    SearchSolver,
    available_search_solvers,
    get_search_solver,
    register_search_solver,
)
from qtrain.quantum.statevector import Statevector, check_memory, max_qubits

__all__ = [
    "Circuit",
    "DurrHoyerSolver",
    "ExhaustiveSearchSolver",
    "Gate",
    "GroverResult",
    "GroverThresholdSolver",
    "HardwareProfile",
    "MinimumSearchResult",
    "Register",
    "Resources",
    "SearchResult",
    "SearchSolver",
    "Statevector",
    "available_profiles",
    "available_search_solvers",
    "bbht_search",
    "check_memory",
    "dh_budget",
    "gate_matrix",
    "get_profile",
    "get_search_solver",
    "grover_probabilities",
    "grover_probability",
    "grover_search",
    "max_qubits",
    "minimum_search",
    "phase_estimation_distribution",
    "projected_time",
    "register_search_solver",
    "tts99",
]

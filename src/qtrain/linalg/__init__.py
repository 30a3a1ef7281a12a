"""Linear algebra for Newton-type training: the ``LinearSolver`` interface (classical and
simulated-quantum solvers, a cost-aware scheduler), condition-number estimators, regularisers,
sparsifiers, cost models and curvature blocks."""

from qtrain.linalg.condition import ConditionEstimate, condition_number, lanczos_extremes
from qtrain.linalg.cost import (
    EPS_MAX,
    KAPPA_MIN,
    ClassicalCostModel,
    QLSACostModel,
    qlsa_queries,
)
from qtrain.linalg.curvature import (
    BLOCKINGS,
    CURVATURES,
    ParamLayout,
    curvature_blocks,
    make_blocks,
)
from qtrain.linalg.qlsa import SimulatedQLSASolver, hhl_statevector, structural_sparsity
from qtrain.linalg.regularize import REGULARIZERS, Regularized, Sparsified, regularize, sparsify
from qtrain.linalg.scheduler import POLICIES, ScheduledSolver, reprice
from qtrain.linalg.solvers import (
    LINEAR_TIMING_KEYS,
    CGSolver,
    CholeskySolver,
    LinearSolver,
    SingularSystemError,
    SolveResult,
    UnconvergedWarning,
    available_linear_solvers,
    check_system,
    get_linear_solver,
    register_linear_solver,
)

__all__ = [
    "BLOCKINGS",
    "CURVATURES",
    "ParamLayout",
    "curvature_blocks",
    "make_blocks",
    "EPS_MAX",
    "KAPPA_MIN",
    "LINEAR_TIMING_KEYS",
    "POLICIES",
    "REGULARIZERS",
    "CGSolver",
    "CholeskySolver",
    "ClassicalCostModel",
    "ConditionEstimate",
    "LinearSolver",
    "QLSACostModel",
    "Regularized",
    "ScheduledSolver",
    "SimulatedQLSASolver",
    "SingularSystemError",
    "SolveResult",
    "Sparsified",
    "UnconvergedWarning",
    "available_linear_solvers",
    "check_system",
    "condition_number",
    "get_linear_solver",
    "hhl_statevector",
    "lanczos_extremes",
    "qlsa_queries",
    "register_linear_solver",
    "reprice",
    "regularize",
    "sparsify",
    "structural_sparsity",
]

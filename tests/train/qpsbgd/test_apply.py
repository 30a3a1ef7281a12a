"""The apply stage on hand-worked examples: scores, the choice per neuron, chunk means, the update.

The running example: inputs ``x_1 = (1, -1)``, ``x_2 = (1, 1)`` and output gradients ``(1, -1)``,
so ``F(d) = sign(d_1 - d_2 + eps) - sign(d_1 + d_2 + eps)``:
``F(-1, -1) = 2``, ``F(1, 1) = 0``, ``F(1, -1) = 0``, ``F(-1, 1) = -2``.
"""

from dataclasses import replace

import pytest
import torch

from qtrain.train.qpsbgd.apply import candidate_scores, choose_directions, updated_weights
from qtrain.train.qpsbgd.problem import LayerProblem, formulate_layer

X = torch.tensor([[1.0, -1.0], [1.0, 1.0]])
G = torch.tensor([[1.0], [-1.0]])
D = {"--": [-1.0, -1.0], "++": [1.0, 1.0], "+-": [1.0, -1.0], "-+": [-1.0, 1.0]}


def cands(*rows):
    """Candidates ``[m, k, n]``: one list of direction names per neuron."""
    return torch.tensor([[D[c] for c in row] for row in rows], dtype=torch.float64)


def sign_problem(G=G, **kw):
    return formulate_layer("l", X, G, torch.zeros(G.shape[1], 2), with_qubo=False, **kw)


def test_sign_scores_are_the_objective_of_every_candidate():
    got = candidate_scores(sign_problem(), cands(["--", "++", "+-", "-+"]))
    assert got.tolist() == [[2.0, 0.0, 0.0, -2.0]]
    # gradients are normalised per neuron: a scaled column scores the same
    assert candidate_scores(sign_problem(G * 7), cands(["--", "-+"])).tolist() == [[2.0, -2.0]]


def test_each_neuron_takes_its_best_candidate_the_first_on_ties_and_none_without_gradient():
    choice = choose_directions(sign_problem(), cands(["+-", "--", "++"]))
    assert choice.update.tolist() == [D["--"]] and choice.moved.tolist() == [True]
    assert choose_directions(sign_problem(), cands(["++", "+-"])).update.tolist() == [D["++"]]
    two = sign_problem(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))  # neuron 1 has no gradient
    choice = choose_directions(two, cands(["--"], ["++"]))
    assert choice.update.tolist() == [D["--"], [0.0, 0.0]] and choice.moved.tolist() == [True, False]


def test_refine_lifts_a_candidate_to_a_local_maximum_before_the_choice():
    # from (1, -1) (F = 0) flipping d_1 reaches (-1, -1) (F = 2)
    assert choose_directions(sign_problem(), cands(["+-"])).update.tolist() == [D["+-"]]
    assert choose_directions(sign_problem(), cands(["+-"]), refine=True).update.tolist() == [D["--"]]
    with pytest.raises(ValueError, match="refine"):
        choose_directions(projected(), cands(["-+"]), refine=True)


def projected(**kw):
    # weights (1, 1): -F = 0; candidates are new weights, each one flip away
    return formulate_layer("l", X, G, torch.tensor([[0.3, 0.2]]), kind="projected",
                           with_qubo=False, **kw)


def test_projected_scores_count_flips_and_the_budget():
    assert candidate_scores(projected(), cands(["-+", "+-", "--"])).tolist() == [[2.0, 0.0, -2.0]]
    assert candidate_scores(projected(flip_penalty=0.5), cands(["-+", "--"])).tolist() == [[1.5, -3.0]]
    assert candidate_scores(projected(hamming_budget=1), cands(["-+", "--"])).tolist() == \
        [[2.0, -float("inf")]]


def test_projected_neuron_moves_only_when_strictly_better():
    better = choose_directions(projected(), cands(["+-", "-+"]))
    assert better.update.tolist() == [D["-+"]] and better.moved.tolist() == [True]
    tie = choose_directions(projected(), cands(["+-"]))  # -F(1, -1) = 0 = -F(1, 1): keep
    assert tie.update.tolist() == [D["++"]] and tie.moved.tolist() == [False]
    over_budget = choose_directions(projected(hamming_budget=0), cands(["-+"]))
    assert over_budget.update.tolist() == [D["++"]] and not bool(over_budget.moved.any())


def test_quadratic_scores_are_minus_the_local_model():
    # lr = 0.5, g = (1, -2), H = [[2, 1], [1, 2]]: score = lr g.d - lr^2/2 d^T H d, e.g.
    # d = (1, -1): 0.5 * 3 - 0.125 * (2 + 2 - 2) = 1.25
    p = LayerProblem(name="q", kind="quadratic", X=X[:1], G=G[:1].double(),
                     active=torch.tensor([True]), lr=0.5, g=torch.tensor([[1.0, -2.0]]).double(),
                     H=torch.tensor([[[2.0, 1.0], [1.0, 2.0]]]).double())
    assert candidate_scores(p, cands(["+-", "-+", "++", "--"])).tolist() == [[1.25, -1.75, -1.25, -0.25]]
    diag = replace(p, H=torch.tensor([[2.0, 2.0]]).double())  # d^T H d = tr H = 4 for every d
    assert candidate_scores(diag, cands(["+-", "--"])).tolist() == [[1.0, 0.0]]
    assert choose_directions(p, cands(["--", "+-"])).update.tolist() == [D["+-"]]


def test_chunked_update_is_the_mean_over_the_chunks_with_a_gradient():
    # rows 1-2 and 3-4 are chunks; neuron 0 has gradients (1, -1 | -1, 1), neuron 1 (1, -1 | 0, 0)
    X4 = torch.cat([X, X])
    G4 = torch.tensor([[1.0, 1.0], [-1.0, -1.0], [-1.0, 0.0], [1.0, 0.0]])
    p = formulate_layer("l", X4, G4, torch.zeros(2, 2), chunk_rows=2, with_qubo=False)
    assert p.chunks == 2 and p.active.tolist() == [True, True, True, False]
    # problem c m + j: chunk 0 prefers (-1, -1) for both neurons, chunk 1 (-1, 1) for neuron 0
    choice = choose_directions(p, cands(*[["--", "-+"]] * 4))
    assert choice.update.tolist() == [[-1.0, 0.0], D["--"]]
    assert choice.moved.tolist() == [True, True]


def test_updated_weights_are_a_new_tensor():
    W = torch.tensor([[0.95, -0.2]])
    d = torch.tensor([[-1.0, 1.0]], dtype=torch.float64)
    new = updated_weights(W, d, lr=0.1, clip=1.0)
    assert new.dtype == torch.float32
    assert new.tolist() == [[1.0, (torch.tensor(-0.2) - torch.tensor(0.1)).item()]]
    assert W.tolist() == [[pytest.approx(0.95), pytest.approx(-0.2)]]  # unchanged
    torch.testing.assert_close(updated_weights(W, d, lr=0.1), torch.tensor([[1.05, -0.3]]))
    flipped = updated_weights(W, torch.tensor([[-1.0, -1.0]], dtype=torch.float64), lr=0.1,
                              projected=True)
    assert flipped.dtype == torch.float32 and flipped.tolist() == [[-1.0, -1.0]]

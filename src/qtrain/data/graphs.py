"""Graphs for node classification, offline: Zachary's karate club and a stochastic block model.

Each is a :class:`Graph`: a dense adjacency, +-1 node features, labels and a seeded, stratified
train/test split of the nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Graph", "karate", "sbm_graph"]


@dataclass
class Graph:
    """An undirected graph with node features, labels and a train/test split of its nodes.

    Attributes:
        adjacency: dense ``[N, N]`` symmetric 0/1 adjacency, no self-loops (float32).
        features: ``[N, F]`` node features, +-1 (float32).
        labels: ``[N]`` classes ``0..num_classes-1`` (int64).
        train_mask, test_mask: ``[N]`` booleans, disjoint, covering every node.
        num_classes: number of classes.
    """

    adjacency: torch.Tensor
    features: torch.Tensor
    labels: torch.Tensor
    train_mask: torch.Tensor
    test_mask: torch.Tensor
    num_classes: int

    @property
    def num_nodes(self) -> int:
        return int(self.labels.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.features.shape[1])


def _masks(labels: np.ndarray, train_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Stratified split: in every class, ``round(train_fraction * size)`` nodes (at least one)
    are drawn for training."""
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must lie in (0, 1), got {train_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    train = np.zeros(len(labels), dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = min(len(idx) - 1, max(1, round(train_fraction * len(idx))))
        train[rng.choice(idx, size=k, replace=False)] = True
    return torch.from_numpy(train), torch.from_numpy(~train)


def karate(seed: int = 0, train_fraction: float = 0.5) -> Graph:
    """Zachary's karate club: 34 members, 78 friendships, two factions (Mr. Hi: 0, Officer: 1).

    Features are the one-hot node identities mapped to +-1 (``2 I - 1``), as in the featureless
    GCN setting. The graph ships with networkx.

    Args:
        seed: seed of the stratified node split.
        train_fraction: fraction of each faction used for training.

    Example:
        >>> g = karate()
        >>> g.num_nodes, int(g.adjacency.sum()) // 2, g.num_classes
        (34, 78, 2)

    References:
        Zachary, J. Anthropol. Res. 33 (1977); Kipf, Welling, arXiv:1609.02907;
        Krahn et al., arXiv:2310.15128 (binary GCN on karate).
    """
    import networkx as nx

    g = nx.karate_club_graph()
    nodes = sorted(g.nodes)
    A = nx.to_numpy_array(g, nodelist=nodes, weight=None).astype(np.float32)
    labels = np.array([0 if g.nodes[v]["club"] == "Mr. Hi" else 1 for v in nodes], dtype=np.int64)
    train, test = _masks(labels, train_fraction, seed)
    X = 2 * np.eye(len(nodes), dtype=np.float32) - 1
    return Graph(torch.from_numpy(A), torch.from_numpy(X), torch.from_numpy(labels), train, test, 2)


def sbm_graph(num_nodes: int = 2708, num_classes: int = 7, num_features: int = 64,
              avg_degree: float = 3.9, homophily: float = 0.8, feature_noise: float = 0.3,
              seed: int = 0, train_fraction: float = 0.5) -> Graph:
    r"""A stochastic-block-model graph of Cora-like size with class-correlated +-1 features.

    Defaults match Cora's 2708 nodes, 7 classes and about 3.9 edges per node, with edge homophily
    ``homophily`` (the expected fraction of edges inside a class): with classes of size ``N/K``,

    .. math:: p_\text{in} = \frac{h\, \bar k}{N/K}, \qquad p_\text{out} = \frac{(1 - h)\, \bar k}{N - N/K}.

    Each class has a random +-1 prototype of ``num_features`` entries; a node's features are its
    class prototype with every entry flipped independently with probability ``feature_noise``.
    (Cora's 1433 bag-of-words features are not reproduced: fan-in sets the QUBO size of QP-SBGD.)

    Args:
        num_nodes, num_classes, num_features: sizes (classes as equal as possible).
        avg_degree: expected degree ``k``.
        homophily: ``h`` in ``[0, 1]``.
        feature_noise: flip probability in ``[0, 0.5]``.
        seed: seed of the graph, the features and the split.
        train_fraction: fraction of each class used for training.

    Raises:
        ValueError: sizes or probabilities out of range.

    References:
        Holland, Laskey, Leinhardt, Social Networks 5 (1983); Sen et al., AI Magazine 29 (2008)
        (Cora).
    """
    for name, v, lo in (("num_nodes", num_nodes, 2), ("num_classes", num_classes, 2),
                        ("num_features", num_features, 1)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if num_classes > num_nodes // 2:
        raise ValueError(f"num_classes={num_classes} needs at least {2 * num_classes} nodes")
    if not 0 <= homophily <= 1:
        raise ValueError(f"homophily must lie in [0, 1], got {homophily!r}")
    if not 0 <= feature_noise <= 0.5:
        raise ValueError(f"feature_noise must lie in [0, 0.5], got {feature_noise!r}")
    size = num_nodes / num_classes
    p_in = homophily * avg_degree / size
    p_out = (1 - homophily) * avg_degree / (num_nodes - size)
    if not (avg_degree > 0 and p_in <= 1 and p_out <= 1):
        raise ValueError(f"avg_degree={avg_degree!r} gives edge probabilities outside (0, 1]")
    rng = np.random.default_rng(seed)
    labels = np.arange(num_nodes) % num_classes
    rng.shuffle(labels)
    p = np.where(labels[:, None] == labels[None, :], p_in, p_out)
    upper = np.triu(rng.random((num_nodes, num_nodes)) < p, k=1)
    A = (upper | upper.T).astype(np.float32)
    proto = rng.choice([-1.0, 1.0], size=(num_classes, num_features))
    flips = np.where(rng.random((num_nodes, num_features)) < feature_noise, -1.0, 1.0)
    X = (proto[labels] * flips).astype(np.float32)
    train, test = _masks(labels, train_fraction, seed)
    return Graph(torch.from_numpy(A), torch.from_numpy(X), torch.from_numpy(labels.astype(np.int64)),
                 train, test, num_classes)

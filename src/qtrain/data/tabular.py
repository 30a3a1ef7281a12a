"""Tabular data, offline: scikit-learn's breast-cancer data binarised to +-1."""

from __future__ import annotations

import numpy as np
import torch

from qtrain.data.digits import Split, _check_split_args

__all__ = ["breast_cancer"]


def breast_cancer(seed: int = 0, test_size: float = 0.25) -> Split:
    """Wisconsin breast cancer (569 samples, 30 real features, 2 classes), features to +-1.

    Each feature becomes ``+1`` above its **training** median and ``-1`` otherwise (the medians
    come from the training split alone, so nothing leaks from the test set). A binary tabular
    stand-in for the Adult data set used by Krahn et al. (arXiv:2310.15128), which cannot be
    downloaded here.

    Args:
        seed: split seed.
        test_size: fraction held out for testing.

    Example:
        >>> s = breast_cancer(seed=0)
        >>> s.X_train.shape[1], s.num_classes
        (30, 2)
    """
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    _check_split_args(seed, test_size)
    data = load_breast_cancer()
    Xtr, Xte, ytr, yte = train_test_split(data.data, data.target, test_size=test_size,
                                          random_state=int(seed), stratify=data.target)
    med = np.median(Xtr, axis=0)
    to_pm = lambda X: np.where(X > med, 1.0, -1.0).astype(np.float32)  # noqa: E731
    return Split(torch.from_numpy(to_pm(Xtr)), torch.from_numpy(ytr).long(),
                 torch.from_numpy(to_pm(Xte)), torch.from_numpy(yte).long(), 2, (0, 1))

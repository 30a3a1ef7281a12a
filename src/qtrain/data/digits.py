"""scikit-learn's 8x8 handwritten digits, binarised to +-1, with seeded splits (offline).

The data ship with scikit-learn (1797 images of 8x8 pixels with intensities 0..16), so nothing is
downloaded. Stand-in for MNIST in the QP-SBGD experiments (Krahn et al., arXiv:2310.15128).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["Split", "binarize_pixels", "digits", "digits_pair", "load_digits_split", "validation_split"]


@dataclass
class Split:
    """A seeded train/test split of a classification data set (tensors).

    Attributes:
        X_train, X_test: features ``[N, d]`` (float32; +-1 when binarised).
        y_train, y_test: integer labels ``[N]`` (int64, ``0..num_classes-1``).
        num_classes: number of classes.
        classes: the original label of each class index.
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    classes: tuple[int, ...]

    @property
    def num_features(self) -> int:
        return int(self.X_train.shape[1])


def binarize_pixels(images: np.ndarray, threshold: float = 8.0) -> np.ndarray:
    """``+1`` where a pixel exceeds ``threshold`` (of 16), else ``-1``."""
    return np.where(np.asarray(images) > threshold, 1.0, -1.0).astype(np.float32)


def _check_split_args(seed: int, test_size: float, name: str = "test_size") -> None:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not (isinstance(test_size, float | int) and 0 < test_size < 1):
        raise ValueError(f"{name} must be a fraction in (0, 1), got {test_size!r}")


def _split(X: np.ndarray, y: np.ndarray, seed: int, test_size: float,
           classes: tuple[int, ...]) -> Split:
    from sklearn.model_selection import train_test_split

    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size, random_state=int(seed),
                                          stratify=y)
    return Split(torch.from_numpy(np.ascontiguousarray(Xtr)), torch.from_numpy(ytr).long(),
                 torch.from_numpy(np.ascontiguousarray(Xte)), torch.from_numpy(yte).long(),
                 len(classes), classes)


def digits(seed: int = 0, test_size: float = 0.25, binary: bool = True,
           threshold: float = 8.0) -> Split:
    """All ten classes of the 8x8 digits (1797 images, 64 features), stratified seeded split.

    Args:
        seed: split seed.
        test_size: fraction held out for testing.
        binary: pixels to +-1 (:func:`binarize_pixels`); ``False`` scales them to ``[0, 1]``.
        threshold: binarisation threshold on the 0..16 intensity scale.

    Returns:
        :class:`Split` with labels ``0..9``.

    Raises:
        ValueError: a negative seed or ``test_size`` outside ``(0, 1)``.

    Example:
        >>> s = digits(seed=0)
        >>> s.X_train.shape[1], s.num_classes
        (64, 10)
    """
    from sklearn.datasets import load_digits

    _check_split_args(seed, test_size)
    data = load_digits()
    X = binarize_pixels(data.data, threshold) if binary else (data.data / 16.0).astype(np.float32)
    return _split(X, data.target.astype(np.int64), seed, test_size, tuple(range(10)))


def digits_pair(a: int, b: int, seed: int = 0, test_size: float = 0.25,
                threshold: float = 8.0) -> Split:
    """Two digit classes of the 8x8 digits, binarised to +-1: label 0 for ``a``, 1 for ``b``.

    About 360 images per pair, 64 +-1 features, stratified seeded split.

    Args:
        a, b: the two digits (distinct, in ``0..9``).
        seed: split seed.
        test_size: fraction held out for testing.
        threshold: binarisation threshold on the 0..16 intensity scale.

    Raises:
        ValueError: digits out of range or equal, bad seed or test size.

    Example:
        >>> s = digits_pair(1, 7, seed=0)
        >>> s.classes, set(s.X_train.unique().tolist())
        ((1, 7), {-1.0, 1.0})

    References:
        Krahn et al., arXiv:2310.15128 (digit pairs 0/2, 1/2, 1/7 on MNIST).
    """
    from sklearn.datasets import load_digits

    for name, v in (("a", a), ("b", b)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 0 <= v <= 9:
            raise ValueError(f"digit {name} must be an integer in 0..9, got {v!r}")
    if a == b:
        raise ValueError(f"digits a and b must differ, got {a} and {b}")
    _check_split_args(seed, test_size)
    data = load_digits()
    keep = (data.target == a) | (data.target == b)
    X = binarize_pixels(data.data[keep], threshold)
    y = (data.target[keep] == b).astype(np.int64)
    return _split(X, y, seed, test_size, (int(a), int(b)))


def validation_split(split: Split, fraction: float = 0.2, seed: int = 0) -> Split:
    """Hold out a stratified, seeded part of ``split``'s *training* set for model selection.

    Returns a :class:`Split` whose ``X_train``/``y_train`` are the remaining training rows and
    whose ``X_test``/``y_test`` are the held-out validation rows; ``split``'s test set is not
    touched, so hyperparameters chosen on the result never see it (the usual
    train/validation/test protocol).

    Args:
        split: a train/test split (e.g. from :func:`digits_pair`).
        fraction: share of the training rows held out, in ``(0, 1)``.
        seed: seed of the held-out draw.

    Raises:
        ValueError: a bad fraction or seed, or too few rows per class to stratify.

    Example:
        >>> s = validation_split(digits_pair(1, 7, seed=0), 0.2, seed=0)
        >>> len(s.y_train) + len(s.y_test) == len(digits_pair(1, 7, seed=0).y_train)
        True
    """
    _check_split_args(seed, fraction, "fraction")
    y = split.y_train.numpy()
    counts = np.bincount(y, minlength=split.num_classes)
    held = np.ceil(fraction * counts).astype(int)
    if (counts - held < 1).any() or (held < 1).any():
        raise ValueError(f"too few training rows per class ({counts.tolist()}) to hold out "
                         f"{fraction} of each")
    return _split(split.X_train.numpy(), y, seed, fraction, split.classes)


def load_digits_split(seed: int, device: str = "cpu", dtype: torch.dtype = torch.float64
                      ) -> dict[str, torch.Tensor]:
    """All ten digit classes as standardised real tensors: a seeded stratified 75/25 split, every
    pixel standardised with the training split's mean and std (``(x - mu) / sd``, ``sd = 1`` where a
    pixel is constant), for the Q-Newton benchmarks.

    Returns:
        ``{"train_inputs", "train_targets", "test_inputs", "test_targets"}``: inputs ``[m, 64]`` in
        ``dtype`` and labels ``[m]`` (int64), on ``device``.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
    mu, sd = Xtr.mean(0), Xtr.std(0)
    sd[sd == 0] = 1.0
    t = lambda a: torch.as_tensor(a, dtype=dtype, device=device)  # noqa: E731
    return {"train_inputs": t((Xtr - mu) / sd), "train_targets": torch.as_tensor(ytr).to(device),
            "test_inputs": t((Xte - mu) / sd), "test_targets": torch.as_tensor(yte).to(device)}

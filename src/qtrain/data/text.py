"""Generated text for tiny language models: a seeded probabilistic grammar, character tokens.

No download, no file: sentences such as ``"the small cat sees a red ball."`` drawn from a fixed
grammar with a seeded generator, so a language model has real structure to learn (agreement of
articles and nouns, word spelling, sentence ends) and its best possible loss is well below the
unigram entropy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["CharCorpus", "char_corpus", "generate_text"]

_ARTICLES = ("the", "a")
_ADJECTIVES = ("small", "red", "old", "quick", "blue", "happy")
_NOUNS = ("cat", "dog", "bird", "ball", "tree", "house", "fish")
_VERBS = ("sees", "finds", "likes", "chases", "has")
_ADVERBS = ("today", "again", "slowly")


def generate_text(num_sentences: int, seed: int = 0) -> str:
    """``num_sentences`` sentences of the grammar
    ``S -> NP VP [ADV] "."``, ``NP -> ART [ADJ] NOUN``, ``VP -> VERB NP``, joined by spaces.

    Raises:
        ValueError: ``num_sentences < 1``.
    """
    if num_sentences < 1:
        raise ValueError(f"num_sentences must be >= 1, got {num_sentences}")
    rng = np.random.default_rng(seed)

    def np_phrase() -> str:
        words = [str(rng.choice(_ARTICLES))]
        if rng.random() < 0.5:
            words.append(str(rng.choice(_ADJECTIVES)))
        words.append(str(rng.choice(_NOUNS)))
        return " ".join(words)

    out = []
    for _ in range(num_sentences):
        s = f"{np_phrase()} {rng.choice(_VERBS)} {np_phrase()}"
        if rng.random() < 0.3:
            s += f" {rng.choice(_ADVERBS)}"
        out.append(s + ".")
    return " ".join(out)


@dataclass
class CharCorpus:
    """Character-level next-token data.

    Attributes:
        vocab: the characters, index = token id.
        train_inputs, train_targets: ``[B, T]`` int64, targets shifted by one character.
        test_inputs, test_targets: held-out windows from separately generated text.
    """

    vocab: str
    train_inputs: torch.Tensor
    train_targets: torch.Tensor
    test_inputs: torch.Tensor
    test_targets: torch.Tensor

    def decode(self, ids: torch.Tensor) -> str:
        return "".join(self.vocab[int(i)] for i in ids.reshape(-1))


def _windows(ids: torch.Tensor, seq_len: int, count: int, rng: np.random.Generator
             ) -> tuple[torch.Tensor, torch.Tensor]:
    starts = torch.from_numpy(rng.integers(0, ids.numel() - seq_len - 1, size=count))
    idx = starts[:, None] + torch.arange(seq_len + 1)
    w = ids[idx]
    return w[:, :-1], w[:, 1:]


def char_corpus(seq_len: int = 16, num_train: int = 512, num_test: int = 256,
                seed: int = 0) -> CharCorpus:
    """Random windows of ``seq_len + 1`` characters from generated text (train and test text
    generated with different seeds).

    Raises:
        ValueError: ``seq_len < 2`` or a non-positive count.
    """
    if seq_len < 2:
        raise ValueError(f"seq_len must be >= 2, got {seq_len}")
    if num_train < 1 or num_test < 1:
        raise ValueError(f"num_train and num_test must be >= 1, got {num_train}, {num_test}")
    words = _ARTICLES + _ADJECTIVES + _NOUNS + _VERBS + _ADVERBS
    vocab = "".join(sorted(set("".join(words)) | {" ", "."}))
    lookup = {c: i for i, c in enumerate(vocab)}
    n_sent = max(50, (num_train + num_test) * seq_len // 20)
    train_text = generate_text(n_sent, seed=2 * seed)
    test_text = generate_text(max(50, n_sent // 2), seed=2 * seed + 1)
    rng = np.random.default_rng(seed)
    tr = torch.tensor([lookup[c] for c in train_text], dtype=torch.int64)
    te = torch.tensor([lookup[c] for c in test_text], dtype=torch.int64)
    xi, yi = _windows(tr, seq_len, num_train, rng)
    xt, yt = _windows(te, seq_len, num_test, rng)
    return CharCorpus(vocab, xi, yi, xt, yt)

"""The answer the CLI and the API both give for one spelled word, so they cannot drift apart."""

from __future__ import annotations

from typing import Any

import numpy as np

from signlens import labels
from signlens.spelling.decoder import decode
from signlens.spelling.lexicon import Lexicon


def spell(letter_probs: np.ndarray, lexicon: Lexicon, top: int = 5) -> dict[str, Any]:
    """(n, 24) probabilities -> {"text", "letters": [{"letter", "confidence"}...], "candidates":
    [{"text", "score", "source", "edit"}...]}: the best word, the per-letter reading, the alternatives."""
    candidates = decode(letter_probs, lexicon, top=top)
    probs = np.asarray(letter_probs, dtype=np.float64)
    best = probs.argmax(axis=1)
    return {
        "text": candidates[0].text,
        "letters": [{"letter": labels.LETTERS[i], "confidence": float(row[i] / row.sum())} for i, row in zip(best, probs)],
        "candidates": [{"text": c.text, "score": c.score, "source": c.source, "edit": c.edit} for c in candidates],
    }

"""Letter readings -> ranked words: a noisy-channel search over the lexicon.

For readings o_1..o_n (one probability vector per signed letter) a word w scores

    log P(w) + Σ_i log max(p_i[w_i], FLOOR) + log P(edit)

where the alignment of readings to letters allows at most one edit by the live segmenter: a letter
**dropped** (the word has one letter more than there are readings: the L-L of HELLO read as one L)
or **doubled** (one reading too many, repeating its neighbour's letter: a hold read twice). Each edit
has its own prior (`DROP`, `DOUBLE`), summed over where in the word it happened.

The search is exhaustive, not pruned: every lexicon word of length n-1, n or n+1 is scored at once as
numpy arrays (~30,000 words for n = 6, ~2 ms of CPU), so no good word is lost to a pruned beam; the
beam is the `top` candidates kept. At most one edit per word: two slips in one word are left alone.

The model's probabilities are taken as they are. On other people's hands they are confidently wrong
in the same way again and again (the shipped default reads nearly every real-photo T as S or N); a
confusion matrix fit on other people (`confusion`, see channel.py) turns them into calibrated
likelihoods, and is what lifts real-photo word accuracy to ~95% (bench/words.py).

A string that is not a word (a name, a code) is a hypothesis too: the per-letter reading (each
reading's most probable letter) is scored by a letter-level model of unknown words, P(unknown) ·
P(length) · Π P(letter), against the same readings, so it wins when no word is close and loses when
one is. Scores are posterior probabilities over every hypothesis scored.

J and Z are motion letters no reading can show: the lexicon holds no words with them (see
lexicon.py), and a word with a typed J or Z is not decoded. Multi-word input decodes word by word:
each word's readings are one call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signlens import labels
from signlens.errors import SignlensError
from signlens.spelling.channel import likelihoods
from signlens.spelling.lexicon import Lexicon, Words

#: Smallest probability a reading gives any letter: one wild reading must not veto a word.
FLOOR = 1e-3
#: Prior of a word having lost a letter / gained a repeated one in the live segmenter.
DROP = 0.02
DOUBLE = 0.02
#: Prior that a spelled string is not a lexicon word: high, because people fingerspell what has no
#: sign of its own (names, places, codes) far more often than everyday words.
UNKNOWN = 0.2


@dataclass(frozen=True)
class Candidate:
    text: str
    #: Posterior probability among all hypotheses scored.
    score: float
    log_score: float
    #: "lexicon", "user" (a user-added word) or "letters" (the per-letter reading, not a word).
    source: str
    #: "" or what the segmenter was taken to have done, e.g. "dropped L", "doubled E".
    edit: str = ""


def _log_sum(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    """log Σ exp(x) along `axis` (np.logaddexp.reduce is ~20× slower)."""
    top = x.max(axis=axis, keepdims=True)
    return np.squeeze(top + np.log(np.exp(x - top).sum(axis=axis, keepdims=True)), axis=axis)


def _aligned(logp: np.ndarray, group: Words, shift: int) -> np.ndarray:
    """(n, N) log p of reading i being letter i + shift of each word (letters past the word are
    never used). Laid out reading-major, so sums over readings are n vector adds over all words."""
    n = logp.shape[0]
    cols = np.clip(np.arange(n) + shift, 0, group.columns.shape[0] - 1)
    return logp[np.arange(n)[:, None], group.columns[cols]]


def _exact(logp: np.ndarray, group: Words) -> tuple[np.ndarray, None]:
    return _aligned(logp, group, 0).sum(axis=0), None


def _dropped(logp: np.ndarray, group: Words) -> tuple[np.ndarray, np.ndarray]:
    """Words of n+1 letters, letter k unread: readings < k are letters i, the rest letters i+1.
    Returns the log-likelihood summed over k = 0..n and the (n+1, N) terms for each k."""
    n = logp.shape[0]
    by_position = np.zeros((n + 1, len(group.texts)))
    by_position[1:] = np.cumsum(_aligned(logp, group, 0), axis=0)
    by_position[:-1] += np.cumsum(_aligned(logp, group, 1)[::-1], axis=0)[::-1]
    # DROP is the prior of a drop anywhere: each of the n+1 places has an equal share
    return _log_sum(by_position, axis=0) - np.log(n + 1), by_position


def _doubled(logp: np.ndarray, group: Words) -> tuple[np.ndarray, np.ndarray]:
    """Words of n-1 letters, reading k (1..n-1) a repeat of letter k-1: readings k.. are letters i-1.
    Returns the log-likelihood summed over k and the (n-1, N) terms for each k."""
    n = logp.shape[0]
    head = np.cumsum(_aligned(logp, group, 0), axis=0)[: n - 1]  # readings 0..k-1, k = 1..n-1
    tail = np.cumsum(_aligned(logp, group, -1)[::-1], axis=0)[::-1][1:]  # readings k..n-1
    by_position = head + tail
    return _log_sum(by_position, axis=0) - np.log(n - 1), by_position


def _letters_hypothesis(logp: np.ndarray, lexicon: Lexicon) -> tuple[str, float]:
    best = logp.argmax(axis=1)
    text = "".join(labels.LETTERS[i] for i in best)
    prior = np.log(UNKNOWN) + lexicon.length_log_prob(len(text)) + lexicon.letter_log_prior[best].sum()
    return text, float(prior + logp[np.arange(len(best)), best].sum())


def check_probabilities(letter_probs: np.ndarray) -> np.ndarray:
    """(n, 24) float64 probabilities, or a SignlensError saying what is wrong with them."""
    probs = np.asarray(letter_probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != labels.N_CLASSES:
        raise SignlensError(f"letter probabilities must be (letters, {labels.N_CLASSES}), got {list(probs.shape)}")
    if probs.shape[0] == 0:
        raise SignlensError("no letters to decode")
    with np.errstate(over="ignore"):  # a sum past the float range is refused below, not warned about
        sums = probs.sum(axis=1)
    if not np.isfinite(probs).all() or (probs < 0).any() or not (np.isfinite(sums) & (sums > 0)).all():
        raise SignlensError("letter probabilities must be finite, non-negative, and not all zero for a letter")
    return probs


@dataclass(frozen=True)
class _Block:
    """The scores of one lexicon length group (or of the per-letter reading, `group` None)."""

    scores: np.ndarray
    group: Words | None = None
    change: int = 0  # word length - readings: +1 dropped, -1 doubled
    by_position: np.ndarray | None = None  # (places, N) log-likelihood of each place of the edit
    text: str = ""

    def candidate(self, i: int, log_score: float, total: float) -> Candidate:
        if self.group is None:
            return Candidate(self.text, float(np.exp(log_score - total)), log_score, "letters")
        edit = ""
        if self.by_position is not None:  # the letter dropped (k) or repeated (k-1, k = 1..n-1)
            position = int(self.by_position[:, i].argmax())
            letter = labels.LETTERS[self.group.columns[position, i]]
            edit = f"{'dropped' if self.change > 0 else 'doubled'} {letter}"
        source = "user" if self.group.user[i] else "lexicon"
        return Candidate(self.group.texts[i], float(np.exp(log_score - total)), log_score, source, edit)


def decode(letter_probs: np.ndarray, lexicon: Lexicon, top: int = 5,
           confusion: np.ndarray | None = None) -> list[Candidate]:
    """(n, 24) probabilities, one row per signed letter in order (labels.LETTERS columns) -> the `top`
    hypotheses, best first: lexicon words (allowing one dropped or doubled letter) and the per-letter
    reading as a possible non-word. `confusion` (channel.fit_confusion, fit on other people) calibrates
    the readings; None takes the model's probabilities as they are."""
    probs = check_probabilities(letter_probs)
    if confusion is not None:
        probs = likelihoods(probs, confusion)
    logp = np.log(np.maximum(probs / probs.sum(axis=1, keepdims=True), FLOOR))
    n = len(logp)
    word_prior = np.log1p(-UNKNOWN)
    blocks = []
    for change, edit_prior in ((0, np.log1p(-DROP - DOUBLE)), (1, np.log(DROP)), (-1, np.log(DOUBLE))):
        group = lexicon.by_length.get(n + change)
        if group is None:
            continue
        channel, by_position = (_exact if change == 0 else _dropped if change > 0 else _doubled)(logp, group)
        blocks.append(_Block(group.log_prior + word_prior + edit_prior + channel, group, change, by_position))
    text, score = _letters_hypothesis(logp, lexicon)
    blocks.append(_Block(np.array([score]), text=text))
    return _ranked(blocks, top)


def _ranked(blocks: list[_Block], top: int) -> list[Candidate]:
    scores = np.concatenate([b.scores for b in blocks])
    starts = np.cumsum([0] + [len(b.scores) for b in blocks])
    total = float(_log_sum(scores))
    keep = np.argpartition(-scores, min(top + 1, len(scores) - 1))[: top + 1]
    found: dict[str, Candidate] = {}
    for i in keep:
        block = int(np.searchsorted(starts, i, side="right")) - 1
        c = blocks[block].candidate(int(i - starts[block]), float(scores[i]), total)
        if c.text in found:  # the per-letter reading is also a word: one candidate, both probabilities
            both = float(np.logaddexp(c.log_score, found[c.text].log_score))
            first = found[c.text] if found[c.text].source != "letters" else c
            c = Candidate(c.text, float(np.exp(both - total)), both, first.source, first.edit)
        found[c.text] = c
    # best first; exact ties go to user words, then to readings that need no edit
    ranked = sorted(found.values(), key=lambda c: (-c.log_score, c.source != "user", c.edit != ""))
    return ranked[:top]

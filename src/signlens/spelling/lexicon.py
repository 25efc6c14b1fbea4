"""The word list the decoder searches: words with frequencies, held as letter-index arrays by length.

The built-in list is symspellpy's English frequency dictionary (`frequency_dictionary_en_82_765.txt`,
MIT licence; counts from Google Books Ngram data intersected with SCOWL word lists), read from the
installed package: nothing is downloaded at run time, and symspellpy itself is never imported (its
data file is all signlens needs).

Words with J or Z are left out: those letters are signed with motion, which signlens cannot see, so
no sequence of readings can spell them. A user types J and Z (the page's keyboard), and words holding
them are taken as typed, not decoded.

A user's own words (names, places) join with the prior of a common word (`USER_RANK`): a person adds a
word because they spell it. So a user word beats any rarer built-in word that fits the readings as
well, and on an exact tie (same prior, same fit) the decoder ranks the user word first.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from signlens import labels
from signlens.errors import SignlensError

DICTIONARY_FILE = "frequency_dictionary_en_82_765.txt"
#: A user word's prior is that of the built-in word at this frequency rank.
USER_RANK = 1000
#: Letters no reading can show (motion letters).
UNSEEN = frozenset("JZ")
_WORD = re.compile(r"^[A-Za-z]+$")
_ASCII_TO_INDEX = np.zeros(128, np.int16)
_ASCII_TO_INDEX[[ord(c) for c in labels.LETTERS]] = np.arange(labels.N_CLASSES)


@dataclass(frozen=True)
class Words:
    """All lexicon words of one length: log priors, texts, user flags, and the letter indices as
    (length, N), letter-major: the decoder sums over letters as vector adds over all words."""

    columns: np.ndarray
    log_prior: np.ndarray
    texts: tuple[str, ...]
    user: np.ndarray


@dataclass(frozen=True)
class Lexicon:
    by_length: dict[int, Words]
    #: log P(letter) over the lexicon's text (24 letters), for strings that are not words.
    letter_log_prior: np.ndarray
    #: log P(length) of a word type (index = length; the last entry stands for any longer), likewise.
    length_log_prior: np.ndarray
    #: The log prior a user's word gets: that of the built-in word at rank USER_RANK.
    user_log_prior: float

    @classmethod
    def from_counts(cls, counts: dict[str, float]) -> "Lexicon":
        """Upper-case letter-only words (no J/Z) -> counts. Builds the arrays the decoder reads."""
        total = sum(counts.values())
        groups: dict[int, list[str]] = {}
        for word in counts:
            groups.setdefault(len(word), []).append(word)
        by_length = {length: Words(
            columns=_columns(words, length),
            log_prior=np.log(np.array([counts[w] for w in words], np.float64) / total),
            texts=tuple(words),
            user=np.zeros(len(words), bool),
        ) for length, words in groups.items()}
        all_letters = np.concatenate([w.columns.ravel() for w in by_length.values()] or [np.zeros(0, int)])
        letter_counts = 1 + np.bincount(all_letters.astype(int), minlength=labels.N_CLASSES)
        length_counts = np.ones(max(groups, default=1) + 2)  # add-one: every length stays possible
        for length, words in groups.items():
            length_counts[length] += len(words)
        length_counts[0] = 0
        with np.errstate(divide="ignore"):
            length_log = np.log(length_counts / length_counts.sum())
        ranked = sorted(counts.values(), reverse=True)
        user_count = ranked[min(USER_RANK, len(ranked)) - 1] if ranked else 1.0
        return cls(by_length, np.log(letter_counts / letter_counts.sum()), length_log, float(np.log(user_count / max(total, 1.0))))

    def length_log_prob(self, length: int) -> float:
        table = self.length_log_prior
        return float(table[min(length, len(table) - 1)])

    def __contains__(self, word: str) -> bool:
        group = self.by_length.get(len(word))
        return group is not None and word.upper() in group.texts

    def most_frequent(self, n: int, min_length: int = 1) -> list[str]:
        """The n words with the highest prior, at least min_length letters long."""
        pairs = [(p, t) for length, g in self.by_length.items() if length >= min_length
                 for p, t in zip(g.log_prior, g.texts)]
        return [t for _, t in sorted(pairs, key=lambda pt: -pt[0])[:n]]

    def with_words(self, words: list[str]) -> "Lexicon":
        """A copy that also holds the user's `words` (checked by `check_word`), each with the prior
        `user_log_prior` or its own, whichever is larger. Only the lengths touched are copied
        (~1 ms a length), so a request can bring its own words."""
        by_length = dict(self.by_length)
        wanted: dict[int, set[str]] = {}
        for word in words:
            word = check_word(word)
            wanted.setdefault(len(word), set()).add(word)
        for length, fresh in wanted.items():
            by_length[length] = self._with_group_words(length, sorted(fresh))
        return replace(self, by_length=by_length)

    def _with_group_words(self, length: int, words: list[str]) -> Words:
        group = self.by_length.get(length) or Words(np.zeros((length, 0), np.int16), np.zeros(0), (), np.zeros(0, bool))
        log_prior, user = group.log_prior.copy(), group.user.copy()
        index = {t: i for i, t in enumerate(group.texts)}
        known = [index[w] for w in words if w in index]
        log_prior[known] = np.maximum(log_prior[known], self.user_log_prior)
        user[known] = True
        new = [w for w in words if w not in index]
        return Words(np.hstack([group.columns, _columns(new, length)]), np.concatenate([log_prior, np.full(len(new), self.user_log_prior)]),
                     group.texts + tuple(new), np.concatenate([user, np.ones(len(new), bool)]))


def _columns(words: list[str], length: int) -> np.ndarray:
    """Upper-case words of one length -> (length, N) letter indices, contiguous."""
    flat = _ASCII_TO_INDEX[np.frombuffer("".join(words).encode("ascii"), np.uint8)]
    return np.ascontiguousarray(flat.reshape(-1, length).T)


def check_word(word: str) -> str:
    """A user word, upper-cased; a clear error for anything the decoder cannot spell."""
    if not _WORD.match(word):
        raise SignlensError(f"{word!r}: words are letters A-Z only")
    word = word.upper()
    unseen = sorted(set(word) & UNSEEN)
    if unseen:
        raise SignlensError(f"{word!r} holds {' and '.join(unseen)}, signed with motion that signlens cannot "
                            "see: type such words instead")
    return word


def read_words(path: Path) -> list[str]:
    """A user's word file: one word per line; blank lines and lines starting with # are skipped.
    A bad line stops it with the file and line named."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SignlensError(f"{path}: cannot read the word file: {exc}") from None
    words = []
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            words.append(check_word(text))
        except SignlensError as exc:
            raise SignlensError(f"{path}, line {number}: {exc}") from None
    return words


def _dictionary_path() -> Path:
    spec = importlib.util.find_spec("symspellpy")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise SignlensError("the English word list comes with the symspellpy package: pip install symspellpy")
    return Path(list(spec.submodule_search_locations)[0]) / DICTIONARY_FILE


def parse_counts(lines: list[str]) -> dict[str, float]:
    """'word count' lines -> upper-case words without J/Z (the rest are skipped) -> counts."""
    counts: dict[str, float] = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or not _WORD.match(parts[0]):
            continue
        word = parts[0].upper()
        if UNSEEN.isdisjoint(word):
            counts[word] = counts.get(word, 0.0) + float(parts[1])
    return counts


@lru_cache(maxsize=1)
def english() -> Lexicon:
    """The built-in English lexicon (parsed once per process, ~0.2 s)."""
    path = _dictionary_path()
    return Lexicon.from_counts(parse_counts(path.read_text(encoding="utf-8").splitlines()))

"""Fingerspelled words: letter readings -> the word spelled (`decode`), over a lexicon (`english`,
plus a user's words)."""

from signlens.spelling.decoder import Candidate, decode
from signlens.spelling.lexicon import Lexicon, english, read_words

__all__ = ["Candidate", "Lexicon", "decode", "english", "read_words"]

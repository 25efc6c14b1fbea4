"""The word decoder (signlens.spelling): lexicon words from noisy letter readings, non-words kept,
segmenter slips repaired, user words preferred; the lexicon and word files."""

from __future__ import annotations

import numpy as np
import pytest

from signlens import labels
from signlens.errors import SignlensError
from signlens.spelling import Lexicon, decode, english, read_words
from signlens.spelling.channel import fit_confusion

SURE = 0.9  # what the shipped models give a letter they are sure of (label smoothing caps it near 0.9)


def readings(word: str, unsure: dict[int, dict[str, float]] | None = None) -> np.ndarray:
    """One row per letter: SURE on the letter; `unsure` rows {position: {letter: prob}} instead."""
    rows = np.full((len(word), labels.N_CLASSES), (1 - SURE) / (labels.N_CLASSES - 1))
    for i, c in enumerate(word):
        rows[i, labels.LETTERS.index(c)] = SURE
    for i, probs in (unsure or {}).items():
        rows[i] = (1 - sum(probs.values())) / (labels.N_CLASSES - len(probs))
        for c, p in probs.items():
            rows[i, labels.LETTERS.index(c)] = p
    return rows


def reading(rows: np.ndarray) -> str:
    return "".join(labels.LETTERS[i] for i in rows.argmax(axis=1))


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return english()


def test_a_reading_one_letter_off_a_common_word_decodes_to_the_word(lexicon: Lexicon) -> None:
    rows = readings("WATER", {2: {"S": 0.5, "T": 0.3}})  # the T read as S, T second
    assert reading(rows) == "WASER"
    best = decode(rows, lexicon)[0]
    assert (best.text, best.source, best.edit) == ("WATER", "lexicon", "")
    assert 0.5 < best.score <= 1.0


def test_a_clean_reading_of_a_name_not_in_the_lexicon_is_kept(lexicon: Lexicon) -> None:
    assert "KWABENA" not in lexicon
    found = decode(readings("KWABENA"), lexicon)
    assert (found[0].text, found[0].source) == ("KWABENA", "letters")
    assert found[0].score > 0.5


def test_a_dropped_and_a_doubled_letter_are_repaired(lexicon: Lexicon) -> None:
    dropped = decode(readings("PEPLE"), lexicon)[0]  # PEOPLE with the O lost
    doubled = decode(readings("HELLLO"), lexicon)[0]  # HELLO with an L read twice
    assert (dropped.text, dropped.edit) == ("PEOPLE", "dropped O")
    assert (doubled.text, doubled.edit) == ("HELLO", "doubled L")


def test_user_words_win_when_equally_likely() -> None:
    plain = Lexicon.from_counts({"MARK": 5.0, "MILK": 5.0, "PARK": 5.0})  # user words get the same prior
    rows = readings("MARK", {3: {"K": 0.45, "C": 0.45}})  # K or C: equally likely
    assert decode(rows, plain)[0].text == "MARK"
    with_user = plain.with_words(["Marc"])
    found = decode(rows, with_user)
    assert [(c.text, c.source) for c in found[:2]] == [("MARC", "user"), ("MARK", "lexicon")]
    assert found[0].score == pytest.approx(found[1].score, rel=1e-3)  # + MARC as a non-word: a trace more


def test_a_user_name_beats_the_builtin_lexicon_on_an_unsure_reading(lexicon: Lexicon, tmp_path) -> None:
    words = tmp_path / "names.txt"
    words.write_text("# my family\nKwabena\n\nAdwoa\n")
    rows = readings("ADWOA", {2: {"W": 0.4, "V": 0.35}, 4: {"A": 0.4, "E": 0.35}})
    mine = lexicon.with_words(read_words(words))
    assert decode(rows, mine)[0].text == "ADWOA" and decode(rows, mine)[0].source == "user"
    assert "ADWOA" not in lexicon  # the built-in lexicon is not changed


def test_word_files_and_words_name_what_is_wrong(lexicon: Lexicon, tmp_path) -> None:
    bad = tmp_path / "words.txt"
    bad.write_text("ANNA\nJOHN\n")
    with pytest.raises(SignlensError, match=r"words.txt, line 2: 'JOHN' holds J"):
        read_words(bad)
    bad.write_text("ANNA\nO'NEIL\n")
    with pytest.raises(SignlensError, match="line 2: .*letters A-Z only"):
        read_words(bad)
    with pytest.raises(SignlensError, match="cannot read"):
        read_words(tmp_path / "missing.txt")
    with pytest.raises(SignlensError, match="holds Z"):
        lexicon.with_words(["PIZZA"])


def test_the_lexicon_has_common_words_and_none_with_j_or_z(lexicon: Lexicon) -> None:
    assert {"THE", "HELLO", "PEOPLE", "WATER"} <= {w for w in lexicon.most_frequent(5000)}
    assert lexicon.most_frequent(3, min_length=2) == ["THE", "OF", "AND"]
    for group in lexicon.by_length.values():
        assert not any(set(t) & {"J", "Z"} for t in group.texts)


def test_a_channel_fit_on_other_people_fixes_a_letter_the_model_always_misreads(lexicon: Lexicon) -> None:
    # A model that reads every T as S: "SO" is a word too, so the raw readings say SO.
    t, s = labels.LETTERS.index("T"), labels.LETTERS.index("S")
    calibration = np.eye(labels.N_CLASSES) * SURE + (1 - SURE) / labels.N_CLASSES
    calibration[t] = calibration[s]
    confusion = fit_confusion(calibration, np.arange(labels.N_CLASSES))
    rows = readings("SO")
    assert decode(rows, lexicon)[0].text == "SO"
    assert decode(rows, lexicon, confusion=confusion)[0].text == "TO"  # TO is the more common word


def test_scores_are_ranked_probabilities(lexicon: Lexicon) -> None:
    found = decode(readings("HELLO", {1: {"E": 0.5, "A": 0.4}}), lexicon, top=5)
    assert len(found) == 5 and len({c.text for c in found}) == 5
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert 0.99 < sum(c.score for c in found) <= 1.0 + 1e-9 or sum(c.score for c in found) <= 1.0


@pytest.mark.parametrize("bad, message", [
    (np.zeros((0, labels.N_CLASSES)), "no letters"),
    (np.ones((3, 26)), r"\(letters, 24\)"),
    (np.full((2, labels.N_CLASSES), np.nan), "finite"),
    (np.zeros((2, labels.N_CLASSES)), "not all zero"),
    (np.full((2, labels.N_CLASSES), 1e308), "finite"),  # each finite, but their sum is not
])
def test_bad_readings_get_a_clear_error(lexicon: Lexicon, bad: np.ndarray, message: str) -> None:
    with pytest.raises(SignlensError, match=message):
        decode(bad, lexicon)

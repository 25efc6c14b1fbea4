"""Leave-one-signer-out: no figure for a person may come from a model that saw that person's photos."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from signlens.errors import SignlensError
from signlens.evaluation import signers

NAMES = [f"{c}_hand{p}_{c.lower()}_dif_seg_{k}_cropped.jpeg" for c in "ABC" for p in (3, 4, 5) for k in (1, 2)]


def _content(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()  # stands for the photo's bytes: one per photo


def test_the_signer_is_read_from_the_file_name() -> None:
    assert signers.signer_of("/x/A/A_hand3_a_dif_seg_1_cropped.jpeg") == "hand3"
    assert signers.signer_of("B/b_signer12.png") == "signer12"
    with pytest.raises(SignlensError, match="no signer"):
        signers.signer_of("A/photo_1.jpeg")
    with pytest.raises(SignlensError, match="no signer"):
        signers.signer_of("A/handheld_3.jpeg")  # a word that starts like one is not a signer


def test_each_fold_tests_one_signer_and_never_trains_on_them() -> None:
    people = [signers.signer_of(n) for n in NAMES]
    folds = signers.folds(people, [_content(n) for n in NAMES])
    assert [f.signer for f in folds] == ["hand3", "hand4", "hand5"]
    for fold in folds:
        assert {people[i] for i in fold.test} == {fold.signer}
        assert fold.signer not in {people[i] for i in fold.train}
        assert sorted([*fold.train, *fold.test]) == list(range(len(NAMES)))


def test_a_tested_photo_in_its_folds_training_set_is_refused() -> None:
    """The same photo filed under two signers (a copy renamed) would be trained on and tested."""
    people = [signers.signer_of(n) for n in NAMES]
    prints = [_content(n) for n in NAMES]
    prints[NAMES.index("B_hand4_b_dif_seg_2_cropped.jpeg")] = prints[NAMES.index("A_hand3_a_dif_seg_1_cropped.jpeg")]
    with pytest.raises(SignlensError, match="tested photo"):
        signers.folds(people, prints)
    with pytest.raises(SignlensError, match="two or more signers"):
        signers.folds(["hand3"] * 4, prints[:4])


def test_the_interval_brackets_the_rate_and_narrows_with_more_photos() -> None:
    lo, hi = signers.wilson(90, 100)
    assert lo < 0.9 < hi and 0.8 < lo and hi < 0.96
    lo2, hi2 = signers.wilson(900, 1000)
    assert hi2 - lo2 < (hi - lo) / 2
    assert signers.wilson(0, 0) == (0.0, 1.0)
    assert np.isclose(signers.wilson(10, 10)[1], 1.0)

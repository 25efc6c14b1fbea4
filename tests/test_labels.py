import numpy as np
import pytest

from signlens import labels


def test_24_letters_without_j_and_z():
    assert labels.N_CLASSES == 24
    assert "J" not in labels.LETTERS and "Z" not in labels.LETTERS
    assert labels.LETTERS[9] == "K"


def test_sign_mnist_label_mapping_skips_j():
    assert labels.index_of_sign_label(0) == 0
    assert labels.index_of_sign_label(10) == 9  # K
    assert labels.index_of_sign_label(24) == 23  # Y
    for bad in (9, 25, -1, 30):
        with pytest.raises(ValueError):
            labels.index_of_sign_label(bad)


def test_vectorised_mapping_round_trips():
    idx = np.arange(24)
    assert np.array_equal(labels.sign_labels_to_indices(labels.indices_to_sign_labels(idx)), idx)


def test_letter_lookup_is_case_insensitive_and_rejects_motion_letters():
    assert labels.index_of_letter("b") == 1
    with pytest.raises(ValueError):
        labels.index_of_letter("J")

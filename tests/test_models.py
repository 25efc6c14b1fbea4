import numpy as np
import pytest

from signlens import labels
from signlens.models import builders as models
from signlens.errors import SignlensError


@pytest.mark.parametrize("name", sorted(models.MODELS))
def test_every_model_maps_grids_to_24_probabilities(name):
    model = models.build(name, (28, 28, 1), labels.N_CLASSES)
    probs = np.asarray(model(np.zeros((2, 28, 28, 1), np.float32)))
    assert probs.shape == (2, 24)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_codelab_architectures_match_the_codelab():
    mlp = models.build("mlp", (28, 28, 1), 24)
    assert [layer.units for layer in mlp.layers if hasattr(layer, "units")] == [512, 256, 24]
    assert [layer.rate for layer in mlp.layers if hasattr(layer, "rate")] == [0.1, 0.1]
    cnn = models.build("cnn", (28, 28, 1), 24)
    convs = [layer for layer in cnn.layers if layer.__class__.__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size) for c in convs] == [(64, (3, 3))] * 3
    assert [layer.rate for layer in cnn.layers if hasattr(layer, "rate")] == [0.2]


def test_dropout_override():
    cnn = models.build("cnn", (28, 28, 1), 24, dropout=0.5)
    assert [layer.rate for layer in cnn.layers if hasattr(layer, "rate")] == [0.5]


def test_unknown_model_is_a_clear_error():
    with pytest.raises(SignlensError, match="unknown model"):
        models.build("resnet1000", (28, 28, 1), 24)


def test_augmenter_keeps_shape_and_changes_images():
    x = np.random.default_rng(0).uniform(0, 255, (4, 28, 28, 1)).astype(np.float32)
    out = np.asarray(models.augmenter(0)(x, training=True))
    assert out.shape == x.shape and not np.allclose(out, x)

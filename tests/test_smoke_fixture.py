from signlens.models import artifact
from signlens.data import load
from signlens.evaluation.evaluate import evaluate


def test_tiny_artifact_learns_the_synthetic_letters(tiny_artifact, tiny_test_csv):
    report = evaluate(artifact.load(tiny_artifact), load(tiny_test_csv))
    assert report["accuracy"] >= 0.9

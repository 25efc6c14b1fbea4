"""A/B assignment and statistics, the prediction log, feedback and drift reports."""

from __future__ import annotations

import collections
import math
import time
import uuid

import numpy as np
import pytest

from signlens import labels
from signlens.cli.main import main
from signlens.data import load
from signlens.inference.predictor import Predictor
from signlens.production import ab, drift
from signlens.production.predlog import PredictionLog, PredictionRecord, add_feedback, connect, grid_stats
from signlens.production.report import variant_stats


def test_traffic_split_matches_weights_and_is_sticky():
    variants = ab.parse_weights("champion=90,challenger=10")
    clients = [f"client-{i}" for i in range(20_000)]
    counts = collections.Counter(ab.assign(c, variants) for c in clients)
    assert counts["challenger"] / len(clients) == pytest.approx(0.10, abs=0.01)
    assert all(ab.assign(c, variants) == ab.assign(c, variants) for c in clients[:500])
    # Growing the challenger only moves clients towards it: nobody flips the other way.
    wider = ab.parse_weights("champion=80,challenger=20")
    assert all(ab.assign(c, wider) == "challenger" for c in clients[:2000] if ab.assign(c, variants) == "challenger")


@pytest.mark.parametrize("spec", ["champion", "a=x", "a=-1", "a=0,b=0", "=5"])
def test_bad_weights_are_refused(spec):
    with pytest.raises(Exception, match="weights"):
        ab.parse_weights(spec)


def test_statistics_against_known_values():
    # 90/100 vs 75/100: pooled p = 0.825, se = 0.05374, z = 2.791, two-sided p = 0.00525.
    z, p = ab.two_proportion_z_test(90, 100, 75, 100)
    assert z == pytest.approx(2.7914, abs=1e-3) and p == pytest.approx(0.00525, abs=1e-4)
    z, p = ab.two_proportion_z_test(50, 100, 50, 100)
    assert z == 0 and p == 1
    lo, hi = ab.wilson_interval(8, 10)  # textbook value: [0.490, 0.943]
    assert (lo, hi) == pytest.approx((0.4902, 0.9433), abs=1e-3)


def _record(variant: str, letter: str, conf: float = 0.9, brightness: float = 140.0, contrast: float = 40.0) -> PredictionRecord:
    return PredictionRecord(uuid.uuid4().hex, time.time(), variant, "m", "v1", letter, conf, 3.0, brightness, contrast,
                            28, 28, False)


def _write_log(path, recs: list[PredictionRecord]) -> PredictionLog:
    log = PredictionLog(path)
    for r in recs:
        log.record(r)
    log.close()
    return log


def test_grid_stats_are_the_grids_mean_and_standard_deviation():
    grid = np.random.default_rng(0).integers(0, 256, (28, 28)).astype(np.uint8)
    assert grid_stats(grid) == pytest.approx((grid.mean(), grid.std()), rel=1e-6)
    assert grid_stats(np.full((28, 28), 7, np.uint8)) == pytest.approx((7.0, 0.0), abs=1e-6)


def test_log_records_and_feedback_updates_per_variant_accuracy(tmp_path):
    path = tmp_path / "log.db"
    recs = [_record("champion", "A") for _ in range(10)] + [_record("challenger", "B") for _ in range(5)]
    log = _write_log(path, recs)
    assert log.written == 15 and log.failed == 0
    assert add_feedback(path, recs[0].id, "A") and add_feedback(path, recs[1].id, "C")
    assert add_feedback(path, recs[10].id, "B")
    assert not add_feedback(path, "no-such-id", "A")
    stats = {s.variant: s for s in variant_stats(path)}
    assert (stats["champion"].requests, stats["champion"].feedback, stats["champion"].accuracy) == (10, 2, 0.5)
    assert stats["challenger"].accuracy == 1.0


def test_unavailable_log_never_raises_and_counts_failures(tmp_path):
    blocked = tmp_path / "a-directory.db"
    blocked.mkdir()  # sqlite cannot open a directory as a database
    log = PredictionLog(blocked)
    started = time.perf_counter()
    for _ in range(20):
        log.record(_record("champion", "A"))
    assert time.perf_counter() - started < 0.5  # record() never waits on the database
    log.close()
    assert log.failed == 20 and log.written == 0


def test_ab_report_cli(tmp_path, capsys):
    path = tmp_path / "log.db"
    recs = [_record("champion", "A") for _ in range(40)] + [_record("challenger", "A") for _ in range(40)]
    _write_log(path, recs)
    for i, r in enumerate(recs):  # champion right 38/40, challenger right 20/40
        right = i < 38 if r.variant == "champion" else i < 60
        add_feedback(path, r.id, "A" if right else "B")
    assert main(["ab", "report", "--log", str(path)]) == 0
    out = capsys.readouterr().out
    assert "champion" in out and "95.0%" in out and "50.0%" in out and "-> significant" in out



def test_ab_report_tests_nothing_against_a_variant_without_feedback(tmp_path, capsys):
    path = tmp_path / "log.db"
    recs = [_record("champion", "A") for _ in range(30)] + [_record("challenger", "A") for _ in range(10)]
    _write_log(path, recs)
    for r in recs[:20]:  # feedback for the champion only
        add_feedback(path, r.id, "A")
    assert main(["ab", "report", "--log", str(path)]) == 0
    out = capsys.readouterr().out
    assert "challenger vs champion: no feedback yet for challenger" in out
    assert "p = " not in out and "significant" not in out
    [challenger] = [line for line in out.splitlines() if line.startswith("challenger ")]
    assert challenger.split()[1:4] == ["10", "0", "-"] and challenger.endswith("no feedback yet")

def _log_predictions(path, predictor: Predictor, x: np.ndarray) -> None:
    log = PredictionLog(path)
    for grid, probs in zip(x, predictor.probabilities(x)):
        mean, std = grid_stats(grid)
        best = int(probs.argmax())
        log.record(PredictionRecord(uuid.uuid4().hex, time.time(), "champion", "m", "v", labels.LETTERS[best],
                                    float(probs[best]), 1.0, mean, std, 28, 28, False))
    log.close()


def test_drift_flags_a_shifted_stream_and_passes_an_unshifted_one(tmp_path, tiny_artifact, tiny_csv, tiny_test_csv,
                                                                   capsys):
    predictor = Predictor.from_ref(str(tiny_artifact))
    test = load(tiny_test_csv)
    same, shifted = tmp_path / "same.db", tmp_path / "shifted.db"
    _log_predictions(same, predictor, test.x)
    dark = (test.x.astype(np.float32) * 0.35).astype(np.uint8)  # a camera in a dim room
    _log_predictions(shifted, predictor, dark)
    args = ["monitor", "report", "--model", str(tiny_artifact), "--reference", str(tiny_csv)]
    assert main([*args, "--log", str(same), "--out", str(tmp_path / "r1")]) == 0
    printed = capsys.readouterr()
    assert "the last 120 predictions" in printed.out and "120 predictions is a small sample" in printed.err
    with pytest.raises(SystemExit) as info:
        main([*args, "--log", str(shifted), "--out", str(tmp_path / "r2")])
    assert info.value.code == 1
    assert (tmp_path / "r2" / "drift.html").exists() and (tmp_path / "r2" / "drift.png").exists()
    checks = {c["name"]: c for c in __import__("json").loads((tmp_path / "r2" / "drift.json").read_text())}
    assert checks["brightness"]["drift"] and checks["brightness"]["psi"] > drift.PSI_THRESHOLD


def test_psi_is_zero_for_identical_and_large_for_disjoint():
    a = np.random.default_rng(0).normal(100, 10, 5000)
    edges = np.linspace(0, 255, 11)
    assert drift.psi(a, a, edges) == pytest.approx(0, abs=1e-9)
    assert drift.psi(a, a + 100, edges) > 1.0
    assert math.isfinite(drift.categorical_psi(np.array([10.0, 0.0]), np.array([0.0, 10.0])))

"""MLflow tracking on a temporary SQLite store: runs are searchable, reproducible and registrable,
and a dead tracking server never costs a training."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mlflow import MlflowClient

from signlens.models import artifact
from signlens.tracking import offline, runs
from signlens.tracking import store as tracking
from signlens.tracking.reproduce import reproduce
from signlens.cli.main import main
from signlens.training.config import TrainConfig
from signlens.data import load
from signlens.models.resolve import resolve
from signlens.inference.predictor import Predictor

# Measured on this machine (2 CPU cores, TF 2.21 with op determinism): a seeded reproduction
# matches validation accuracy and loss exactly (diff 0.0). The loss bound leaves room for
# float reordering on other CPUs; accuracy on 96 validation images must be identical.
REPRODUCE_LOSS_TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory, tiny_config: TrainConfig, store: str) -> dict[str, Any]:
    cfg = dataclasses.replace(tiny_config, epochs=3)
    data = load(cfg.data)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIGNLENS_HOME", str(tmp_path_factory.mktemp("home")))
        result, run = runs.train_tracked(cfg, tmp_path_factory.mktemp("art") / "a", data, uri=store, verbose=0)
    assert run.run_id is not None and run.queued is None
    return {"run_id": run.run_id, "result": result, "data": data}


def test_run_is_searchable_by_param_and_metric(tracked: dict[str, Any], store: str) -> None:
    c = MlflowClient(tracking_uri=store)
    exp = c.get_experiment_by_name(tracking.DEFAULT_EXPERIMENT)
    found = c.search_runs([exp.experiment_id], "params.model = 'cnn' and metrics.final_val_accuracy > 0.5")
    assert [r.info.run_id for r in found] == [tracked["run_id"]]
    assert not c.search_runs([exp.experiment_id], "params.model = 'mlp'")

    run = found[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["epochs"] == "3" and run.data.params["seed"] == "1"
    assert run.data.tags["signlens.dataset_fingerprint"] == tracked["data"].fingerprint
    assert run.data.tags["signlens.git_dirty"] in ("True", "False")
    assert run.data.tags["lib.tensorflow"].startswith("2.")
    assert run.data.metrics["final_val_accuracy"] == pytest.approx(tracked["result"].metrics["val_accuracy"])
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"):
        assert [m.step for m in c.get_metric_history(run.info.run_id, key)] == [0, 1, 2], key
    assert tracking.history(c, run.info.run_id)["val_accuracy"] == tracked["result"].history["val_accuracy"]

    logged = {a.path for a in c.list_artifacts(run.info.run_id, tracking.ARTIFACT_PATH)}
    assert {"artifact/model.keras", "artifact/signlens.json", "artifact/history.json"} <= logged
    assert "learning_curves.png" in {a.path for a in c.list_artifacts(run.info.run_id)}
    # The local artifact knows its run, so `evaluate` on it can report back.
    assert artifact.read_meta(tracked["result"].artifact_dir)["mlflow_run_id"] == run.info.run_id


def test_reproduce_matches_original(tracked: dict[str, Any], store: str, tmp_path: Path) -> None:
    out = reproduce(tracked["run_id"][:8], tmp_path / "again", store, verbose=0)
    m = out["metrics"]
    assert m["final_val_accuracy"]["diff"] == 0.0
    assert abs(m["final_val_loss"]["diff"]) <= REPRODUCE_LOSS_TOLERANCE
    assert m["epochs_run"]["diff"] == 0
    again = MlflowClient(tracking_uri=store).get_run(out["run_id"])
    assert again.data.tags["signlens.reproduces"] == tracked["run_id"]


def test_reproduce_refuses_different_data(tracked: dict[str, Any], store: str) -> None:
    c = tracking.client(store)
    original = c.get_run(tracked["run_id"])
    fake = c.create_run(original.info.experiment_id, tags={"signlens.dataset_fingerprint": "sha256:0000"})
    for k, v in original.data.params.items():
        c.log_param(fake.info.run_id, k, v)
    with pytest.raises(tracking.TrackingError, match="fingerprint sha256:0000"):
        reproduce(fake.info.run_id, uri=store)
    c.delete_run(fake.info.run_id)


def test_register_promote_and_load_by_alias(tracked: dict[str, Any], store: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "register", tracked["run_id"], "--tracking-uri", store]) == 0
    assert "version 1" in capsys.readouterr().out
    assert main(["models", "promote", "1", "--alias", "champion", "--tracking-uri", store]) == 0
    capsys.readouterr()
    assert main(["models", "list", "--tracking-uri", store]) == 0
    [row] = capsys.readouterr().out.splitlines()[1:]
    assert row.split()[:3] == ["1", "champion", tracked["run_id"]]

    local = artifact.load(tracked["result"].artifact_dir)
    images = tracked["data"].x[:12]
    expected = Predictor(local).probabilities(images)
    for ref in ("models:/signlens-asl@champion", "models:/signlens-asl/1", f"runs:/{tracked['run_id']}/artifact"):
        art = resolve(ref, tracking_uri=store)
        assert art.meta["mlflow_run_id"] == tracked["run_id"]
        np.testing.assert_allclose(Predictor(art).probabilities(images), expected, atol=1e-6)
    assert resolve("models:/signlens-asl@champion", tracking_uri=store).version == "signlens-asl/v1"

    assert main(["models", "promote", "7", "--alias", "champion", "--tracking-uri", store]) == 2
    assert "no model version" in capsys.readouterr().err


def test_evaluate_logs_report_to_the_run(tracked: dict[str, Any], store: str, tiny_test_csv: Path,
                                         tmp_path: Path) -> None:
    ref = f"runs:/{tracked['run_id']}/artifact"
    args = ["evaluate", ref, "--data", str(tiny_test_csv), "--out", str(tmp_path / "eval-test"), "--tracking-uri", store]
    assert main(args) == 0
    c = MlflowClient(tracking_uri=store)
    report = json.loads((tmp_path / "eval-test" / "report.json").read_text())
    assert c.get_run(tracked["run_id"]).data.metrics["eval_test_accuracy"] == pytest.approx(report["accuracy"])
    assert "eval-test/report.json" in {a.path for a in c.list_artifacts(tracked["run_id"], "eval-test")}


def test_runs_commands(tracked: dict[str, Any], store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    uri = ["--tracking-uri", store]
    assert main(["runs", "list", *uri]) == 0
    assert tracked["run_id"] in capsys.readouterr().out
    assert main(["runs", "search", "metrics.final_val_accuracy > 0.5 and params.model = 'cnn'", *uri]) == 0
    assert tracked["run_id"] in capsys.readouterr().out
    assert main(["runs", "search", "params.model = 'mlp'", *uri]) == 0
    assert capsys.readouterr().out.strip() == "no runs"
    assert main(["runs", "search", "metrics.val_accuracy >>> 1", *uri]) == 2
    assert "search failed" in capsys.readouterr().err
    assert main(["runs", "show", tracked["run_id"][:10], *uri]) == 0
    shown = capsys.readouterr().out
    assert "signlens.dataset_fingerprint" in shown and "final_val_accuracy" in shown
    png = tmp_path / "cmp.png"
    assert main(["runs", "compare", tracked["run_id"], tracked["run_id"], "--out", str(png), *uri]) == 0
    assert png.stat().st_size > 1000 and "final_val_accuracy" in capsys.readouterr().out
    assert main(["runs", "show", "nosuchrun", *uri]) == 2
    assert "no run 'nosuchrun'" in capsys.readouterr().err


def test_unreachable_store_still_trains_then_sync_logs_it(
    tiny_csv: Path, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SIGNLENS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    out = tmp_path / "offline"
    args = ["train", "--out", str(out), "--tracking-uri", "http://127.0.0.1:9", "--experiment", "offline",
            "model=cnn", "epochs=2", "batch_size=16", f"data={tiny_csv}", "val_fraction=0.2", "seed=2"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert (out / "model.keras").exists()
    assert err.count("tracking store http://127.0.0.1:9 failed") == 1  # warned once, not per epoch
    queued = offline.pending()
    assert len(queued) == 1 and "runs sync" in err
    assert main(["runs", "list", "--tracking-uri", "http://127.0.0.1:9"]) == 2  # a message, not a traceback
    assert "tracking store http://127.0.0.1:9" in capsys.readouterr().err

    assert main(["runs", "sync", "--tracking-uri", store]) == 0
    assert offline.pending() == []
    c = MlflowClient(tracking_uri=store)
    [run] = c.search_runs([c.get_experiment_by_name("offline").experiment_id], "params.seed = '2'")
    assert run.data.tags["signlens.synced_from"] == queued[0].name
    assert [m.step for m in c.get_metric_history(run.info.run_id, "val_accuracy")] == [0, 1]
    assert "artifact/model.keras" in {a.path for a in c.list_artifacts(run.info.run_id, "artifact")}
    assert artifact.read_meta(out)["mlflow_run_id"] == run.info.run_id


def test_resume_continues_the_same_run(tmp_path: Path, tiny_config: TrainConfig, store: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import keras

    from signlens.training import train as train_module

    class KillAfterSecondEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if epoch == 1:
                raise KeyboardInterrupt

    cfg = dataclasses.replace(tiny_config, epochs=4)
    data, out = load(cfg.data), tmp_path / "run"
    real_train = train_module.train
    monkeypatch.setattr(train_module, "train", lambda *a, **k: real_train(
        *a, **{**k, "callbacks": [*k["callbacks"], KillAfterSecondEpoch()]}))
    with pytest.raises(KeyboardInterrupt):
        runs.train_tracked(cfg, out, data, uri=store, verbose=0)
    monkeypatch.setattr(train_module, "train", real_train)
    killed = MlflowClient(store).get_run((out / runs.RUN_FILE).read_text().strip())
    assert killed.info.status == "KILLED"
    with pytest.raises(Exception, match="--resume"):  # a refused restart leaves the run id alone
        runs.train_tracked(cfg, out, data, uri=store, verbose=0)

    _, run = runs.train_tracked(cfg, out, data, uri=store, resume=True, verbose=0)
    assert run.run_id == killed.info.run_id and not (out / runs.RUN_FILE).exists()
    c = MlflowClient(store)
    assert c.get_run(run.run_id).info.status == "FINISHED"
    assert [m.step for m in c.get_metric_history(run.run_id, "loss")] == [0, 1, 2, 3]  # one run, every epoch


def test_an_unreachable_server_is_found_in_seconds_not_minutes(
    tiny_config: TrainConfig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # MLflow's own defaults (7 retries with backoff, 120 s timeouts) took 4 min 16 s here to give up
    # on a port nobody listens on; no MLFLOW_HTTP_* setting may hide that in this test.
    for key in tracking.HTTP_DEFAULTS:
        monkeypatch.delenv(key, raising=False)
    run = runs.TrainingRun(tiny_config, load(tiny_config.data), uri="http://127.0.0.1:9")
    entered = threading.Thread(target=run.__enter__, daemon=True)
    started = time.monotonic()
    entered.start()
    entered.join(timeout=30)
    assert not entered.is_alive(), "still waiting on the tracking store after 30 s"
    assert time.monotonic() - started < 15
    assert run.run_id is None  # offline: the run will be queued at the end
    assert capsys.readouterr().err.count("tracking store http://127.0.0.1:9 failed") == 1


def test_resume_stays_in_the_interrupted_runs_experiment(
    tiny_config: TrainConfig, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    import keras

    from signlens.training import train as train_module

    class KillAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            raise KeyboardInterrupt

    out = tmp_path / "run"
    real_train = train_module.train
    monkeypatch.setattr(train_module, "train", lambda *a, **k: real_train(
        *a, **{**k, "callbacks": [*k["callbacks"], KillAfterFirstEpoch()]}))
    args = ["train", "--out", str(out), "--tracking-uri", store, "--experiment", "tiny", "model=cnn", "epochs=2",
            "batch_size=16", f"data={tiny_config.data}", "val_fraction=0.2", "seed=1"]
    assert main(args) == 130
    monkeypatch.setattr(train_module, "train", real_train)
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--tracking-uri", store, "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "(experiment 'tiny'" in printed
    c = MlflowClient(store)
    [run] = c.search_runs([c.get_experiment_by_name("tiny").experiment_id])
    assert run.info.run_id in printed and run.info.status == "FINISHED"


def test_a_refused_config_leaves_no_run_and_no_run_id(
    tiny_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = tmp_path / "art"
    common = ["train", "--out", str(out), "--tracking-uri", store_uri, "--experiment", "refused", "epochs=1",
              f"data={tiny_csv}"]
    assert main([*common, "model=resnet"]) == 2
    assert "unknown model 'resnet'" in capsys.readouterr().err
    assert main([*common, "model=cnn", f"exclude={tmp_path / 'missing.csv'}"]) == 2
    assert "exclude file not found" in capsys.readouterr().err
    exp = MlflowClient(store_uri).get_experiment_by_name("refused")
    assert exp is None or not MlflowClient(store_uri).search_runs([exp.experiment_id])
    assert not (out / runs.RUN_FILE).exists()


def test_a_failed_download_leaves_no_temporary_folder(tracked: dict[str, Any], store: str) -> None:
    from signlens.paths import state_dir
    from signlens.tracking import registry

    for _ in range(2):
        with pytest.raises(tracking.TrackingError, match="cannot download"):
            registry.download(f"runs:/{tracked['run_id']}/no-such-folder", store)
    assert not list((state_dir() / "downloads").glob(".tmp-*"))

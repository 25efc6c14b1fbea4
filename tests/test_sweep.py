"""`signlens sweep` on Ray Tune and `predict --batch --ray`: local Ray, a two-node loopback cluster,
resuming after the driver is SIGKILLed, and clear errors for bad SPECs and addresses.

Ray's start-up alone takes seconds (tens of them on a loaded 2-core machine), so only one local
sweep stays in the default tier; the cluster, resume and Ray batch tests are slow.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from signlens.cli.main import main
from signlens.sweep import spec as sweep_spec
from signlens.tracking import store as tracking
from tests.synthetic import make_arrays, write_csv

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    x, y = make_arrays(per_letter=6, seed=0)
    return write_csv(tmp_path_factory.mktemp("sweep-data") / "small.csv", x, y)


def write_spec(path: Path, data: Path, *, extra_sweep: str = "", epochs: int = 2,
               space: str = 'learning_rate = [0.003, 0.01]\noptimizer = ["adam", "sgd"]') -> Path:
    path.write_text(f"""
[sweep]
name = "tiny"
max_concurrent = 2
{extra_sweep}

[fixed]
model = "cnn"
epochs = {epochs}
batch_size = 32
val_fraction = 0.25
val_split = "random"
data = "{data}"

[space]
{space}
""")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sweep_state(sweep_dir: Path) -> dict:
    return json.loads((sweep_dir / "sweep.json").read_text())


def trial_runs(uri: str, sweep_dir: Path) -> list:
    c = tracking.client(uri)
    parent = sweep_state(sweep_dir)["parent_run_id"]
    exp_ids = [e.experiment_id for e in c.search_experiments()]
    return list(c.search_runs(exp_ids, f"tags.mlflow.parentRunId = '{parent}'", max_results=100))


def check_finished_sweep(sweep_dir: Path, uri: str, n_trials: int) -> list:
    """n nested runs, each FINISHED (or stopped by ASHA, and marked so), the CSV and PNG written."""
    runs = trial_runs(uri, sweep_dir)
    assert len(runs) == n_trials
    for run in runs:
        stopped = run.info.status == "KILLED" and run.data.tags.get("signlens.stopped_early") == "asha"
        assert run.info.status == "FINISHED" or stopped, run.info
        assert run.data.tags["signlens.sweep_id"] == sweep_state(sweep_dir)["sweep_id"]
        assert {"sweep.learning_rate", "sweep.optimizer"} <= set(run.data.tags)
    assert len({r.data.tags["signlens.trial_id"] for r in runs}) == n_trials
    with open(sweep_dir / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == n_trials
    scores = [float(r["val_accuracy"]) for r in rows]
    assert scores == sorted(scores, reverse=True)  # best first
    assert (sweep_dir / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return runs


# --- default tier ---------------------------------------------------------------------------------

def test_local_sweep_logs_nested_runs_table_csv_and_png(small_csv: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    spec = write_spec(tmp_path / "tiny.toml", small_csv)
    out = tmp_path / "sweep"
    assert main(["sweep", str(spec), "--out", str(out), "--register-best"]) == 0
    printed = capsys.readouterr().out
    uri = tracking.tracking_uri()
    runs = check_finished_sweep(out, uri, 4)
    assert "best first" in printed and "registered trial" in printed
    assert all(r.info.run_id in printed for r in runs)  # the final table names every run
    best = sweep_state(out)
    c = tracking.client(uri)
    parent = c.get_run(best["parent_run_id"])
    assert parent.info.status == "FINISHED"
    version = c.get_model_version(tracking.REGISTERED_MODEL, "1")
    assert version.run_id == parent.data.tags["signlens.best_run_id"]
    assert (out / "trials" / parent.data.tags["signlens.best_trial"] / "signlens.json").exists()
    # `signlens runs search` finds the trials by their sweep tags.
    assert main(["runs", "search", f"tags.`signlens.sweep_id` = '{best['sweep_id']}' and tags.`sweep.optimizer` = 'adam'"]) == 0
    found = capsys.readouterr().out
    assert sum(r.info.run_id in found for r in runs) == 2


@pytest.mark.parametrize("section, message", [
    ('[space]\nlerning_rate = [0.1]', "unknown TrainConfig field 'lerning_rate'"),
    ('[space]\nlearning_rate = { loguniform = [0.0, 0.1] }', "learning_rate"),
    ('[space]\ndropout = { uniform = [0.5, 0.1] }', "[0.5, 0.1] is empty"),
    ('[space]\noptimizer = ["adam", "adamw"]', "optimizer = 'adamw' is not a valid value"),
    ('[space]\nbatch_size = [32, -1]', "batch_size = -1"),
    ('[sweep]\nmetric = "test_accuracy"\n[space]\nseed = [0, 1]', "the test split is never a sweep metric"),
    ('[sweep]\nsearch = "bayes"\n[space]\nseed = [0, 1]', "'bayes' is not one of grid, random, optuna"),
    ('[space]\nlearning_rate = { loguniform = [1e-4, 1e-1] }', "needs search = \"random\" or \"optuna\""),
    ('[fixed]\nval_fraction = 0.0\n[space]\nseed = [0, 1]', "no validation split"),
    ('[sweep]\nname = "x"', "nothing to sweep"),
    ('[[points]]\noptimizer = "sgd"\nlearning_rate = -1.0', "[[points]] #1: learning_rate = -1.0"),
])
def test_bad_specs_name_the_field_and_value(tmp_path: Path, section: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(section + "\n")
    with pytest.raises(sweep_spec.SpecError) as err:
        sweep_spec.load(path)
    assert message in str(err.value)


def test_shipped_sweeps_parse_and_set_overrides_fixed_values() -> None:
    found = sorted((ROOT / "configs" / "sweeps").glob("*.toml"))
    assert [p.stem for p in found] == ["dropout-early-stopping", "learning-rate", "optimizers"]
    for path in found:
        spec = sweep_spec.load(path, {"epochs": "1"})
        assert spec.base["epochs"] == 1 and spec.metric.startswith("val_")
    optimizers = sweep_spec.load(ROOT / "configs" / "sweeps" / "optimizers.toml")
    assert [p["optimizer"] for p in optimizers.points] == ["sgd", "momentum", "adagrad", "adadelta", "adam", "rmsprop"]
    assert optimizers.base["model"] == "cnn"


def test_bad_spec_and_cluster_mistakes_fail_fast_through_the_cli(tmp_path: Path, small_csv: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    spec = write_spec(tmp_path / "s.toml", small_csv)
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 2
    assert "sweep spec not found" in capsys.readouterr().err
    # A cluster's workers cannot write the driver's sqlite file.
    assert main(["sweep", str(spec), "--address", "127.0.0.1:6379"]) == 2
    assert "must be an MLflow server" in capsys.readouterr().err
    started = time.monotonic()
    closed = free_port()
    assert main(["sweep", str(spec), "--address", f"127.0.0.1:{closed}", "--tracking-uri", "http://127.0.0.1:9"]) == 2
    assert f"cannot reach the Ray cluster at 127.0.0.1:{closed}" in capsys.readouterr().err
    assert time.monotonic() - started < 30  # seconds, not Ray's minutes of retries
    assert main(["sweep", "--resume", str(tmp_path / "nothing")]) == 2
    assert "nothing to resume" in capsys.readouterr().err


# --- slow tier ------------------------------------------------------------------------------------

def _cli(*args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "signlens.cli.main", *args], env=env, **kw)


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_AUTH_MODE": "token"}


def _wait_for_port(port: int, what: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(1)


def _stop_group(proc: subprocess.Popen) -> None:
    """End a process we started in its own session, and everything it started (by its group id)."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 30)):
        if _alive_group(proc.pid):
            os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass


@pytest.fixture()
def loopback_cluster(tmp_path: Path):
    """A real two-node Ray cluster on 127.0.0.1 (`ray start --head` + a second `ray start --address`
    node) and an MLflow server, as a user would run them. Each runs in its own process group, ended
    by group id afterwards (never `ray stop`, which would end every Ray on the machine)."""
    env = _env()
    ray_bin = str(Path(sys.executable).with_name("ray"))
    port, mlflow_port = free_port(), free_port()
    started: list[subprocess.Popen] = []

    def background(*args: str) -> None:
        log = open(tmp_path / f"{Path(args[0]).name}-{len(started)}.log", "w")
        started.append(subprocess.Popen(list(args), env=env, start_new_session=True, stdout=log, stderr=log))
    # Ray's socket paths live under its temp dir and must stay short (108 bytes): not under tmp_path.
    ray_temp = tempfile.mkdtemp(prefix="rt-", dir="/tmp")
    try:
        background(ray_bin, "start", "--block", "--head", f"--port={port}", "--node-ip-address=127.0.0.1",
                   "--num-cpus=1", "--include-dashboard=false", f"--temp-dir={ray_temp}")
        background(sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(mlflow_port),
                   "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
                   "--artifacts-destination", str(tmp_path / "server-artifacts"))
        _wait_for_port(port, "ray head")
        background(ray_bin, "start", "--block", f"--address=127.0.0.1:{port}", "--node-ip-address=127.0.0.1",
                   "--num-cpus=1")
        _wait_for_port(mlflow_port, "mlflow server")
        yield f"127.0.0.1:{port}", f"http://127.0.0.1:{mlflow_port}", env
    finally:
        for proc in reversed(started):
            _stop_group(proc)
        shutil.rmtree(ray_temp, ignore_errors=True)


@pytest.mark.slow
def test_sweep_on_a_two_node_loopback_cluster(loopback_cluster, small_csv: Path, tmp_path: Path) -> None:
    address, uri, env = loopback_cluster
    # Both nodes joined (`ray start` replaces --node-ip-address=127.0.0.1 by this host's address, on
    # purpose in Ray 2.60: services.resolve_ip_for_localhost; both are still this one machine).
    count = ("import ray, time; ray.init(address='%s'); t = time.monotonic()\n"
             "while len([n for n in ray.nodes() if n['Alive']]) < 2 and time.monotonic() - t < 180: time.sleep(2)\n"
             "print(len([n for n in ray.nodes() if n['Alive']]))" % address)
    nodes = subprocess.run([sys.executable, "-c", count], env=env, capture_output=True, text=True, timeout=300)
    assert nodes.stdout.strip().splitlines()[-1:] == ["2"], nodes.stderr[-2000:]
    spec = write_spec(tmp_path / "tiny.toml", small_csv)
    out = tmp_path / "sweep"
    proc = _cli("sweep", str(spec), "--out", str(out), "--address", address, "--tracking-uri", uri, env=env,
                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log, _ = proc.communicate(timeout=1200)
    assert proc.returncode == 0, log[-3000:]
    runs = check_finished_sweep(out, uri, 4)
    for run in runs:  # the artifacts came back to the driver through the MLflow server
        if run.info.status == "FINISHED":
            assert (out / "trials" / run.data.tags["signlens.trial_id"] / "signlens.json").exists()


@pytest.mark.slow
def test_resume_after_sigkill_reruns_no_finished_trial(small_csv: Path, tmp_path: Path) -> None:
    env = {**_env(), "SIGNLENS_HOME": str(tmp_path / "home")}
    spec = write_spec(tmp_path / "tiny.toml", small_csv, extra_sweep='scheduler = "fifo"', epochs=3,
                      space='learning_rate = [0.003, 0.01]\noptimizer = ["adam", "sgd"]')
    spec.write_text(spec.read_text().replace("max_concurrent = 2", "max_concurrent = 1"))
    out = tmp_path / "sweep"
    uri = f"sqlite:///{tmp_path / 'home' / 'mlflow.db'}"
    proc = _cli("sweep", str(spec), "--out", str(out), "--tracking-uri", uri, env=env, cwd=tmp_path,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 900
    while not (out / "sweep.json").exists() or not any(r.info.status == "FINISHED" for r in trial_runs(uri, out)):
        assert proc.poll() is None and time.monotonic() < deadline, "no trial finished"
        time.sleep(2)
    proc.send_signal(signal.SIGKILL)  # the driver only, mid-sweep
    proc.wait()
    before = {r.data.tags["signlens.trial_id"]: r.info.run_id for r in trial_runs(uri, out)
              if r.info.status == "FINISHED"}
    assert 0 < len(before) < 4
    resumed = subprocess.run([sys.executable, "-m", "signlens.cli.main", "sweep", "--resume", str(out)], env=env,
                             cwd=tmp_path, capture_output=True, text=True, timeout=1500)
    if _alive_group(proc.pid):  # what the killed driver's Ray left behind
        os.killpg(proc.pid, signal.SIGKILL)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    finished = [r for r in trial_runs(uri, out) if r.info.status == "FINISHED"]
    ids = [r.data.tags["signlens.trial_id"] for r in finished]
    assert sorted(ids) == sorted(set(ids)) and len(ids) == 4  # every trial finished, each in MLflow once
    for trial_id, run_id in before.items():  # the ones finished before the kill were not run again
        assert {r.info.run_id for r in finished if r.data.tags["signlens.trial_id"] == trial_id} == {run_id}


def _alive_group(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except OSError:
        return False


@pytest.mark.slow
def test_predict_batch_on_ray_equals_the_local_output(tiny_artifact: Path, tiny_test_csv: Path,
                                                      tmp_path: Path) -> None:
    local, on_ray = tmp_path / "local.csv", tmp_path / "ray.csv"
    bad = tmp_path / "mixed.csv"
    lines = tiny_test_csv.read_text().splitlines()
    bad.write_text("\n".join(lines[:5] + [lines[5].replace(",", ",x", 1)] + lines[6:]) + "\n")
    for path in (tiny_test_csv, bad):
        assert main(["predict", str(tiny_artifact), "--batch", str(path), "-o", str(local), "--overwrite",
                     "--all-probabilities"]) == 0
        assert main(["predict", str(tiny_artifact), "--batch", str(path), "-o", str(on_ray), "--overwrite",
                     "--all-probabilities", "--ray"]) == 0
        with open(local, newline="") as a, open(on_ray, newline="") as b:
            want, got = list(csv.DictReader(a)), list(csv.DictReader(b))
        assert [(r["id"], r["letter"]) for r in got] == [(r["id"], r["letter"]) for r in want]
        for r, w in zip(got, want):
            assert all(abs(float(r[k]) - float(w[k])) <= 1e-6 for k in r if k.startswith("p_"))
        assert (tmp_path / "ray.errors.csv").read_text() == (tmp_path / "local.errors.csv").read_text()

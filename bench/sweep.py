"""Sweep throughput: a sequential loop in one process vs `signlens sweep` on local Ray, same run.

    .venv/bin/python bench/sweep.py [--epochs 3] [--rows N] [--out bench/results/sweep.txt]

Both run the six trials of configs/sweeps/optimizers.toml (the codelab CNN, one optimizer each at
its usual learning rate) on the vendored Sign-MNIST train split (`--rows N`: its first N rows, for a
busy machine), each trial an MLflow run (the
loop calls tracking.train_tracked one trial after another; TensorFlow uses every core in it).
Ray's side is the real CLI in a subprocess, so its figure includes Ray's start-up; that start-up
and the per-trial overhead (a trial's wall time in Tune minus its training seconds) are stated.

Then `predict --batch` on the full test split, local vs `--ray`, both through the CLI.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "configs" / "sweeps" / "optimizers.toml"
TEST_SPLIT = ROOT / "data" / "sign-mnist" / "sign_mnist_test.csv.gz"


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        return platform.processor()


def overrides(epochs: int, data: str | None) -> dict[str, str]:
    return {"epochs": str(epochs), **({"data": data} if data else {})}


def subset(rows: int, home: Path) -> str:
    """The first `rows` rows of the vendored train split, as a CSV in `home`."""
    import gzip

    source = ROOT / "data" / "sign-mnist" / "sign_mnist_train.csv.gz"
    target = home / f"train-{rows}.csv"
    with gzip.open(source, "rt") as f, open(target, "w") as out:
        for i, line in enumerate(f):
            if i > rows:
                break
            out.write(line)
    return str(target)


def sequential(epochs: int, data: str | None, home: Path) -> tuple[float, list[float]]:
    """The six trials one after another in this process; wall seconds and each trial's train seconds."""
    os.environ["SIGNLENS_HOME"] = str(home)
    from signlens.data import load
    from signlens.sweep import spec as sweep_spec
    from signlens.tracking import store as tracking

    spec = sweep_spec.load(SPEC, overrides(epochs, data))
    started = time.perf_counter()
    data = load(spec.base["data"], "train")
    train_seconds = []
    for i, point in enumerate(spec.points):
        cfg = spec.trial_config(point)
        result, _ = tracking.train_tracked(cfg, home / "seq" / str(i), data, experiment="bench-seq", verbose=0)
        train_seconds.append(result.metrics["train_seconds"])
    return time.perf_counter() - started, train_seconds


def on_ray(epochs: int, data: str | None, home: Path) -> tuple[float, Path]:
    out = home / "ray-sweep"
    env = {**os.environ, "SIGNLENS_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    started = time.perf_counter()
    sets = [a for k, v in overrides(epochs, data).items() for a in ("--set", f"{k}={v}")]
    subprocess.run([sys.executable, "-m", "signlens.cli.main", "sweep", str(SPEC), *sets,
                    "--out", str(out), "--experiment", "bench-ray"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, out


def ray_overheads(sweep_dir: Path, home: Path) -> tuple[list[float], list[float]]:
    """Each trial's wall time in Tune and its training seconds (from its MLflow run)."""
    os.environ["SIGNLENS_HOME"] = str(home)
    from signlens.tracking import store as tracking

    c = tracking.client()
    walls, trains = [], []
    for result in sorted((sweep_dir / "tune").glob("*/result.json")):
        last = [json.loads(line) for line in result.read_text().splitlines() if line.strip()][-1]
        walls.append(float(last["time_total_s"]))
        trains.append(c.get_run(last["mlflow_run_id"]).data.metrics["train_seconds"])
    return walls, trains


def ray_startup() -> float:
    code = ("import time, logging; t = time.perf_counter(); import ray; "
            "ray.init(address='local', include_dashboard=False, _node_ip_address='127.0.0.1', "
            "logging_level=logging.WARNING); print(time.perf_counter() - t); ray.shutdown()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}).stdout
    return float(out.strip().splitlines()[-1])


def predict(ray: bool, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "signlens.cli.main", "predict", "default", "--batch", str(TEST_SPLIT),
                    "-o", str(out), "--overwrite", "--all-probabilities", *(["--ray"] if ray else [])],
                   env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def same_output(a: Path, b: Path) -> bool:
    with open(a, newline="") as fa, open(b, newline="") as fb:
        ra, rb = list(csv.DictReader(fa)), list(csv.DictReader(fb))
    return len(ra) == len(rb) and all(
        x["id"] == y["id"] and x["letter"] == y["letter"]
        and all(abs(float(x[k]) - float(y[k])) <= 1e-6 for k in x if k.startswith("p_")) for x, y in zip(ra, rb))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--rows", type=int, help="train on the first N rows of the train split (default: all)")
    p.add_argument("--figure", help="also copy the Ray sweep's sweep.png here")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "sweep.txt"))
    args = p.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    data = subset(args.rows, home) if args.rows else None
    startup = ray_startup()
    ray_wall, sweep_dir = on_ray(args.epochs, data, home)
    if args.figure:
        shutil.copyfile(sweep_dir / "sweep.png", args.figure)
    seq_wall, seq_train = sequential(args.epochs, data, home)
    walls, trains = ray_overheads(sweep_dir, home)
    n = len(seq_train)
    local_s = predict(False, home / "local.csv")
    ray_s = predict(True, home / "ray.csv")
    rows = _table(n, args.epochs, args.rows, seq_wall, seq_train, ray_wall, walls, trains, startup)
    rows += ["", f"predict --batch, full test split ({TEST_SPLIT.name}, CLI wall time incl. start-up):",
             f"  local {local_s:.1f} s   --ray {ray_s:.1f} s   throughput ratio ray/local = {local_s / ray_s:.2f}x   "
             f"outputs equal: {same_output(home / 'local.csv', home / 'ray.csv')}"]
    text = "\n".join(rows) + "\n"
    print(text)
    Path(args.out).write_text(text)


def _table(n: int, epochs: int, n_rows: int | None, seq_wall: float, seq_train: list[float], ray_wall: float, walls: list[float],
           trains: list[float], startup: float) -> list[str]:
    per_trial = [w - t for w, t in zip(walls, trains)]
    return [
        f"bench/sweep.py: {n} trials of configs/sweeps/optimizers.toml (codelab CNN, {epochs} epochs each, "
        f"Sign-MNIST train split{f', first {n_rows} rows' if n_rows else ''}), each an MLflow run",
        f"CPU: {cpu_name()}, {os.cpu_count()} cores, SHARED with other helpers' jobs while this ran "
        "(absolute times are noisy; both sides ran in the same session, one after the other)",
        "",
        f"{'':34}{'wall s':>9}{'trials/hour':>13}{'vs sequential':>15}",
        f"{'sequential loop, one process':34}{seq_wall:9.1f}{3600 * n / seq_wall:13.1f}{1.0:14.2f}x",
        f"{'signlens sweep, local Ray':34}{ray_wall:9.1f}{3600 * n / ray_wall:13.1f}{seq_wall / ray_wall:14.2f}x",
        "",
        f"sequential: training {sum(seq_train):.1f} s of {seq_wall:.1f} s (TensorFlow on all cores, one trial at a time)",
        f"Ray: start-up {startup:.1f} s (ray.init alone); one trial per core ({os.cpu_count()} at a time, "
        f"TensorFlow pinned to 1 thread each); training {sum(trains):.1f} s summed over its {len(walls)} trials",
        f"per-trial training: sequential (all cores) {sum(seq_train) / max(1, len(seq_train)):.1f} s, "
        f"Ray (1 core) {sum(trains) / max(1, len(trains)):.1f} s",
        f"Ray per-trial overhead (trial wall in Tune - its training seconds): median "
        f"{sorted(per_trial)[len(per_trial) // 2]:.1f} s, max {max(per_trial):.1f} s" if per_trial else "",
    ]


if __name__ == "__main__":
    main()

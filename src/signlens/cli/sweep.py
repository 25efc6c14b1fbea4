"""`signlens sweep SPEC.toml`: hyperparameter sweeps on Ray Tune, every trial a nested MLflow run.

Ray is imported only when a sweep runs: the SPEC, the address and the tracking store are checked
first, so their mistakes cost no Ray start-up.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from signlens.errors import SignlensError

if TYPE_CHECKING:
    from signlens.sweep.report import TrialRow
    from signlens.sweep.runner import Sweep


def _start(args: argparse.Namespace, addr: str | None) -> Sweep:
    from signlens.sweep import cluster, runner
    from signlens.sweep import spec as sweep_spec
    from signlens.tracking import store as tracking

    if args.resume:
        if args.spec:
            raise SignlensError("--resume continues a sweep with the SPEC it was started with; leave out SPEC")
        return runner.reopen(Path(args.resume), addr)
    if not args.spec:
        raise SignlensError("give a SPEC.toml (see configs/sweeps/) or --resume DIR")
    from signlens.training.config import parse_overrides

    spec = sweep_spec.load(args.spec, parse_overrides(args.set))
    uri = tracking.tracking_uri(args.tracking_uri)
    runner.require_server(uri, addr)
    if addr and addr != "auto":
        cluster.check_reachable(addr)  # before a parent run exists
    out = Path(args.out) if args.out else Path("sweeps") / f"{spec.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    return runner.create(spec, out, uri, args.experiment, addr)


def _fetch_artifacts(sweep: Sweep, trials: list[TrialRow]) -> None:
    """On a cluster the trials' artifacts live in the MLflow server: bring them to the sweep dir."""
    from signlens.tracking import registry
    from signlens.tracking import store as tracking

    for t in trials:
        target = sweep.dir / "trials" / t.trial_id
        if t.state == "done" and not target.exists():
            cached, _ = registry.download(f"runs:/{t.run_id}/{tracking.ARTIFACT_PATH}", sweep.state["tracking_uri"])
            shutil.copytree(cached, target)


def _finish(sweep: Sweep, trials: list[TrialRow], register_best: bool) -> None:
    from signlens.sweep import report
    from signlens.tracking import registry
    from signlens.tracking import store as tracking

    spec = sweep.spec
    print(f"\n{spec.name}: {len(trials)} trials, best first ({spec.metric}, {spec.mode})")
    print(report.format_table(trials, spec))
    csv_path = report.write_csv(trials, spec, sweep.dir / "trials.csv")
    png = report.plot(trials, spec, sweep.dir / "sweep.png", f"sweep {spec.name} ({sweep.state['sweep_id']})")
    if not sweep.local:
        _fetch_artifacts(sweep, trials)
    c = tracking.client(sweep.state["tracking_uri"])
    parent = sweep.state["parent_run_id"]
    c.log_artifact(parent, str(csv_path))
    c.log_artifact(parent, str(png))
    top = report.best(trials)
    if top is not None:
        c.log_metric(parent, f"best_{spec.metric}", top.metric)
        c.set_tag(parent, "signlens.best_trial", top.trial_id)
        c.set_tag(parent, "signlens.best_run_id", top.run_id)
    unfinished = [t for t in trials if t.state in ("unfinished", "error")]
    if not unfinished:
        c.set_terminated(parent, "FINISHED")
    print(f"\nwrote {csv_path} and {png}; mlflow parent run {parent} "
          f"(trials: signlens runs search \"tags.mlflow.parentRunId = '{parent}'\")")
    if unfinished:
        print(f"{len(unfinished)} trial(s) did not finish: continue with `signlens sweep --resume {sweep.dir}`",
              file=sys.stderr)
    if register_best:
        if top is None:
            raise SignlensError("--register-best: no trial finished, nothing to register")
        mv = registry.register_version(c, top.run_id)
        print(f"registered trial {top.trial_id} (run {top.run_id}, {spec.metric} {top.metric:.4f}) "
              f"as {mv.name} version {mv.version}")


def _sweep(args: argparse.Namespace) -> None:
    from signlens.data import load
    from signlens.sweep import cluster, report, runner

    addr = cluster.address(args.address)
    sweep = _start(args, addr)
    data = load(sweep.spec.base["data"], "train")  # on the driver; trials get it via Ray's object store
    print(f"sweep {sweep.state['sweep_id']} in {sweep.dir} ({'cluster ' + addr if addr else 'local Ray'}); "
          f"mlflow parent run {sweep.state['parent_run_id']} in {sweep.state['tracking_uri']}", flush=True)
    cluster.start(addr, args.cpus)
    try:
        results = runner.run(sweep, data, resume=bool(args.resume))
        trials = report.rows(results, sweep.spec, sweep.state["tracking_uri"])
    finally:
        cluster.stop()
    _finish(sweep, trials, args.register_best)


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("sweep", help="hyperparameter sweep on Ray Tune (local or a cluster); every trial an MLflow run")
    s.add_argument("spec", nargs="?", help="sweep SPEC (TOML; see configs/sweeps/)")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a [fixed] train value of the SPEC (repeatable), e.g. --set epochs=1")
    s.add_argument("--out", help="sweep directory (default: sweeps/<name>-<time>)")
    s.add_argument("--resume", metavar="DIR", help="continue the interrupted sweep in DIR (finished trials are kept)")
    s.add_argument("--address", help="Ray cluster HOST:PORT (default: RAY_ADDRESS, else a local Ray on this machine)")
    s.add_argument("--cpus", type=int, help="cores for the local Ray (default: all of this machine's)")
    s.add_argument("--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI or sqlite under $SIGNLENS_HOME; "
                   "an MLflow server with --address)")
    s.add_argument("--experiment", default="signlens", help="MLflow experiment of the sweep's runs")
    s.add_argument("--register-best", action="store_true",
                   help="register the best finished trial's artifact as a new signlens-asl version")
    s.set_defaults(func=_sweep)

"""The driver side of a sweep: the sweep dir and its parent MLflow run, then Ray Tune over the trials.

The sweep dir holds `sweep.json` (the resolved SPEC, sweep id, parent run id, tracking store),
Tune's experiment state (`tune/`) and, for a local sweep, each trial's artifact (`trials/<id>/`).
`--resume DIR` restores Tune's state from there: finished trials keep their results and are not
run again; unfinished ones continue from their last finished epoch.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signlens.errors import SignlensError
from signlens.sweep import spec as sweep_spec
from signlens.sweep.spec import SweepSpec

if TYPE_CHECKING:
    from ray.tune import ResultGrid

    from signlens.data import Dataset

SWEEP_FILE = "sweep.json"
TUNE_DIR = "tune"
PARENT_TAG = "signlens.sweep_parent"


@dataclass
class Sweep:
    dir: Path
    spec: SweepSpec
    state: dict[str, Any]  # sweep_id, parent_run_id, tracking_uri, experiment, address

    @property
    def local(self) -> bool:
        return not self.state.get("address")


def require_server(tracking_uri: str, addr: str | None) -> None:
    """Trials on other machines cannot write the driver's sqlite file: a cluster needs an MLflow server."""
    if addr and not tracking_uri.startswith(("http://", "https://")):
        raise SignlensError(
            f"with --address the trials run on the cluster's machines and log to MLflow there, so the "
            f"tracking store must be an MLflow server, not the local store {tracking_uri}: start one "
            "(`mlflow server --host 127.0.0.1 --port 5000`, reachable from the workers) and pass "
            "--tracking-uri http://HOST:5000")


def create(spec: SweepSpec, sweep_dir: Path, tracking_uri: str, experiment: str, addr: str | None) -> Sweep:
    """A new sweep dir and its parent run (the trials' runs nest under it)."""
    from signlens.tracking import store as tracking

    if (sweep_dir / SWEEP_FILE).exists():
        raise SignlensError(f"{sweep_dir} already holds a sweep: continue it with --resume {sweep_dir}, "
                            "or choose another --out")
    sweep_dir.mkdir(parents=True, exist_ok=True)
    sweep_id = f"{spec.name}-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    try:
        c = tracking.client(tracking_uri)
        parent = c.create_run(tracking.experiment_id(c, experiment), run_name=f"sweep-{sweep_id}",
                              tags={PARENT_TAG: "true", "signlens.sweep_id": sweep_id,
                                    "signlens.sweep_name": spec.name, "signlens.sweep_spec": spec.source,
                                    "signlens.sweep_fields": ",".join(spec.swept_fields)})
        c.log_dict(parent.info.run_id, sweep_spec.resolved(spec), "sweep_spec.json")
    except Exception as exc:
        raise SignlensError(f"tracking store {tracking_uri} failed: {str(exc)[:300]}") from None
    state = {"sweep_id": sweep_id, "parent_run_id": parent.info.run_id, "tracking_uri": tracking_uri,
             "experiment": experiment, "address": addr, "spec": sweep_spec.resolved(spec)}
    (sweep_dir / SWEEP_FILE).write_text(json.dumps(state, indent=1, default=str) + "\n")
    return Sweep(sweep_dir, spec, state)


def reopen(sweep_dir: Path, addr: str | None) -> Sweep:
    path = sweep_dir / SWEEP_FILE
    if not path.exists():
        raise SignlensError(f"nothing to resume in {sweep_dir}: no {SWEEP_FILE} (start it with `signlens sweep SPEC`)")
    state = json.loads(path.read_text())
    state["address"] = addr
    require_server(state["tracking_uri"], addr)
    spec = sweep_spec.parse(state["spec"], Path(state["spec"]["sweep"].get("name", "sweep") + ".toml"))
    return Sweep(sweep_dir, spec, state)


def param_space(spec: SweepSpec) -> dict[str, Any]:
    from ray import tune

    from signlens.sweep.trial import POINT_KEY

    make = {"grid": lambda v: tune.grid_search(list(v)), "choice": lambda v: tune.choice(list(v)),
            "loguniform": lambda v: tune.loguniform(*v), "uniform": lambda v: tune.uniform(*v)}
    space = {d.field: make[d.kind](d.values) for d in spec.dimensions}
    if spec.points:
        space[POINT_KEY] = tune.grid_search(list(spec.points))
    return space


def _max_epochs(spec: SweepSpec) -> int:
    swept = [int(v) for d in spec.dimensions if d.field == "epochs" for v in d.values]
    swept += [int(p["epochs"]) for p in spec.points if "epochs" in p]
    return max([int(spec.base["epochs"]), *swept])


def _tune_config(spec: SweepSpec) -> Any:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    search_alg = None
    if spec.search == "optuna":
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        search_alg = OptunaSearch(sampler=optuna.samplers.TPESampler(seed=spec.seed))
    elif spec.search == "random":
        from ray.tune.search.basic_variant import BasicVariantGenerator

        search_alg = BasicVariantGenerator(random_state=spec.seed)
    max_t = _max_epochs(spec) + 1  # ASHA stops a trial reaching max_t: the last epoch must still finish the run
    scheduler = (ASHAScheduler(time_attr="epoch", max_t=max_t, grace_period=min(spec.grace_period, max_t - 1))
                 if spec.scheduler == "asha" else FIFOScheduler())
    # Without a scheduler a worker can keep TensorFlow imported for its next trial. ASHA's stops end
    # a trial only at its next report, an epoch later, so its worker cannot be handed on in time.
    return tune.TuneConfig(metric=spec.metric, mode=spec.mode, search_alg=search_alg, scheduler=scheduler,
                           num_samples=spec.num_samples, max_concurrent_trials=spec.max_concurrent or None,
                           reuse_actors=spec.scheduler == "fifo", trial_dirname_creator=trial_dirname)


def trial_dirname(trial: Any) -> str:
    """`tune/<trial id>`: the id the table, trials.csv and the MLflow tags show."""
    return trial.trial_id


def _trainable(sweep: Sweep, data: Dataset) -> Any:
    from ray import tune

    from signlens.sweep.trial import run_trial

    spec = sweep.spec
    context = {**{k: sweep.state[k] for k in ("sweep_id", "parent_run_id", "tracking_uri", "experiment")},
               "name": spec.name, "base": spec.base, "metric": spec.metric, "cpus_per_trial": spec.cpus_per_trial,
               "local": sweep.local, "sweep_dir": str(sweep.dir.resolve())}
    # with_parameters puts `data` in Ray's object store once: workers on any node read it from there.
    bound = tune.with_parameters(run_trial, data=data, context=context)
    return tune.with_resources(bound, {"cpu": spec.cpus_per_trial})


def run(sweep: Sweep, data: Dataset, resume: bool) -> ResultGrid:
    """Run (or continue) the sweep's trials on the Ray that cluster.start connected to."""
    from ray import tune

    from signlens.sweep.progress import LiveTable

    trainable = _trainable(sweep, data)
    tune_dir = sweep.dir.resolve() / TUNE_DIR
    if resume and tune.Tuner.can_restore(str(tune_dir)):
        tuner = tune.Tuner.restore(str(tune_dir), trainable, resume_unfinished=True, resume_errored=False,
                                   restart_errored=True)
    else:
        live = LiveTable(sweep.spec.swept_fields, sweep.spec.metric, sweep.state["tracking_uri"])
        tuner = tune.Tuner(trainable, param_space=param_space(sweep.spec), tune_config=_tune_config(sweep.spec),
                           run_config=tune.RunConfig(name=TUNE_DIR, storage_path=str(sweep.dir.resolve()),
                                                     verbose=0, callbacks=[live]))
    return tuner.fit()

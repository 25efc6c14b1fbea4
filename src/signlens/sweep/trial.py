"""One sweep trial, run by Ray Tune in a worker: signlens's own `train` as a nested MLflow run.

Each epoch's validation metrics go to Tune (so ASHA can stop a weak trial) and to MLflow. A trial
that already finished in MLflow (the driver died after it ended but before Tune saved that) is
not trained again: its logged curve is replayed to Tune instead, so it stays in MLflow once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keras

    from signlens.data import Dataset

POINT_KEY = "point"  # the param-space key that holds one [[points]] entry
STOPPED_TAG = "signlens.stopped_early"  # on the MLflow run of a trial the scheduler (ASHA) stopped


def trial_values(config: dict[str, Any]) -> dict[str, Any]:
    """Tune's sampled config -> the TrainConfig values it sets ([[points]] entries flattened)."""
    values = {k: v for k, v in config.items() if k != POINT_KEY}
    return {**config.get(POINT_KEY, {}), **values}


def _pin_threads(cpus: int) -> None:
    """This trial's share of the cores: two trials on two cores must not each start two-thread pools.

    Tune reuses a worker for the next trial (its TensorFlow is then already set up, with these sizes).
    """
    import tensorflow as tf

    threading = tf.config.threading
    if (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads()) != (cpus, cpus):
        threading.set_intra_op_parallelism_threads(cpus)
        threading.set_inter_op_parallelism_threads(cpus)


def trial_dir(context: dict[str, Any], trial_id: str) -> Path:
    """Beside the sweep on the driver's disk when local; on a cluster a worker-local folder (the
    artifact reaches the driver through the MLflow server)."""
    if context["local"]:
        return Path(context["sweep_dir"]) / "trials" / trial_id
    return Path(tempfile.gettempdir()) / "signlens-sweeps" / context["sweep_id"] / trial_id


def finished_run(client: Any, experiment_id: str, sweep_id: str, trial_id: str) -> Any | None:
    """This trial's run if it already FINISHED in MLflow (tags signlens.sweep_id / signlens.trial_id)."""
    runs = client.search_runs(
        [experiment_id],
        f"tags.`signlens.sweep_id` = '{sweep_id}' and tags.`signlens.trial_id` = '{trial_id}' "
        "and attributes.status = 'FINISHED'", max_results=1)
    return runs[0] if runs else None


def _report_callback(metric: str, run_id: str | None, out_dir: Path) -> keras.callbacks.Callback:
    import keras
    from ray import tune

    class _TuneReport(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = {k: float(v) for k, v in (logs or {}).items()}
            tune.report({**logs, "epoch": epoch + 1, metric: logs.get(metric, float("nan")),
                         "mlflow_run_id": run_id or "", "trial_dir": str(out_dir)})

    return _TuneReport()


def _replay(client: Any, run: Any, metric: str, out_dir: Path) -> None:
    from ray import tune

    from signlens.tracking import store as tracking

    curves = tracking.history(client, run.info.run_id)
    for epoch in range(len(curves.get(metric, []))):
        tune.report({**{k: v[epoch] for k, v in curves.items() if epoch < len(v)}, "epoch": epoch + 1,
                     "mlflow_run_id": run.info.run_id, "trial_dir": str(out_dir), "replayed": True})


def run_trial(config: dict[str, Any], *, data: Dataset, context: dict[str, Any]) -> None:
    """The Tune trainable (bound with tune.with_parameters, so `data` comes from the object store)."""
    _pin_threads(context["cpus_per_trial"])
    from ray import tune

    from signlens.tracking import runs
    from signlens.tracking import store as tracking
    from signlens.training import config as train_config
    from signlens.training.train import CHECKPOINT_DIR, train

    trial_id = tune.get_context().get_trial_id()
    values = trial_values(config)
    cfg = train_config.build({**context["base"], **values})
    out_dir = trial_dir(context, trial_id)
    client = tracking.client(context["tracking_uri"])
    done = finished_run(client, tracking.experiment_id(client, context["experiment"]), context["sweep_id"], trial_id)
    if done is not None:
        return _replay(client, done, context["metric"], out_dir)
    resume = (out_dir / CHECKPOINT_DIR).exists()  # this trial was cut off: continue it, same MLflow run
    tags = {"mlflow.parentRunId": context["parent_run_id"], "signlens.sweep_id": context["sweep_id"],
            "signlens.sweep_name": context["name"], "signlens.trial_id": trial_id,
            **{f"sweep.{k}": str(v) for k, v in values.items()}}
    with runs.TrainingRun(cfg, data, context["experiment"], context["tracking_uri"],
                              run_name=f"{context['name']}-{trial_id}", tags=tags,
                              run_file=out_dir / runs.RUN_FILE, resume=resume) as run:
        callbacks = [run.callback(), _report_callback(context["metric"], run.run_id, out_dir)]
        try:
            result = train(cfg, out_dir, data=data, resume=resume, callbacks=callbacks, verbose=0)
        except SystemExit:  # how Tune ends a trial its scheduler stopped: a stop, not a failure
            if run.run_id:
                client.set_tag(run.run_id, STOPPED_TAG, "asha")
                client.set_terminated(run.run_id, "KILLED")
            return
        run.finish(result)

"""`signlens reproduce`: retrain a run from its logged config on the same data and compare metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from signlens.paths import state_dir
from signlens.tracking import store
from signlens.tracking.runs import train_tracked
from signlens.tracking.store import FINAL_METRICS, TrackingError


def reproduce(ref: str, out_dir: Path | None = None, uri: str | None = None,
              verbose: int | None = None) -> dict[str, Any]:
    """Retrain a run from its logged config on the same data (checked by fingerprint); compare metrics."""
    from signlens.data import load
    from signlens.training import config

    c = store.client(uri)
    original = store.find_run(c, ref)
    run_id = original.info.run_id
    cfg = config.build(dict(original.data.params))
    data = load(cfg.data, "train")
    expected = original.data.tags.get("signlens.dataset_fingerprint")
    if data.fingerprint != expected:
        raise TrackingError(f"run {run_id} was trained on {original.data.tags.get('signlens.data_source')} "
                            f"with fingerprint {expected}, but {data.source} has {data.fingerprint}")
    exp_name = c.get_experiment(original.info.experiment_id).name
    out_dir = out_dir or state_dir() / "reproduce" / run_id
    result, run = train_tracked(cfg, out_dir, data, experiment=exp_name, uri=uri,
                                tags={"signlens.reproduces": run_id}, verbose=verbose)
    rows = {}
    for key in FINAL_METRICS:
        if key in original.data.metrics and key.removeprefix("final_") in result.metrics:
            before, after = original.data.metrics[key], float(result.metrics[key.removeprefix("final_")])
            rows[key] = {"original": before, "reproduced": after, "diff": after - before}
    return {"original": run_id, "run_id": run.run_id, "queued": run.queued, "artifact_dir": result.artifact_dir,
            "metrics": rows}

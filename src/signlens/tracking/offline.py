"""Runs trained while the store was unreachable: queued as JSON, logged later by `signlens runs sync`.

A queued record holds everything a run would have logged (params, tags, per-epoch metrics, the
artifact dir); it lives under `$SIGNLENS_HOME/pending/` until a store has taken all of it.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from signlens.paths import state_dir
from signlens.tracking import store
from signlens.tracking.store import TrackingError


def queue(record: dict[str, Any]) -> Path:
    folder = state_dir() / "pending"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def pending() -> list[Path]:
    return sorted((state_dir() / "pending").glob("*.json"))


def _log_record(c: Any, path: Path, record: dict[str, Any]) -> str:
    from signlens.models import artifact

    run_id = store.create_run(c, record["experiment"], record["run_name"],
                              {**record["tags"], "signlens.synced_from": path.name}, record["params"],
                              start_time=record["start_time"])
    store.log_metric_rows(c, run_id, record["metrics"])
    if Path(record["artifact_dir"]).is_dir():
        artifact.update_meta(Path(record["artifact_dir"]), mlflow_run_id=run_id)
    else:
        print(f"signlens: warning: {record['artifact_dir']} is gone; run logged without artifacts", file=sys.stderr)
    store.log_outputs(c, run_id, record)
    return run_id


def sync(uri: str | None = None) -> list[tuple[Path, str]]:
    """Log every queued run record to the store; a record is deleted only once fully logged."""
    done = []
    for path in pending():
        record = json.loads(path.read_text())
        try:
            store.check_reachable(store.tracking_uri(uri))
            c = store.client(uri)
            run_id = _log_record(c, path, record)
        except Exception as exc:
            raise TrackingError(f"cannot log {path} to {store.tracking_uri(uri)}: {type(exc).__name__}: {exc}") from None
        if record.get("partial_run_id"):
            try:
                c.delete_run(record["partial_run_id"])  # the half-logged original, if it reached a store
            except Exception:
                pass  # it may live in another store; the complete run is what matters
        path.unlink()
        done.append((path, run_id))
    return done

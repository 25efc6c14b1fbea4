"""`predict --batch INPUT --ray`: the same batch job, its model runs spread over a Ray actor pool.

batch.run reads, checks and writes exactly as on the local path (same ids, errors file, --resume);
only the probabilities of each window of inputs come from Ray Data: `map_batches` with a stateful
actor class that loads the Predictor once per actor. Batches are the local path's chunks (1024
rows, the Predictor's own batch), in order, so the output file is the local one.

Inputs are decoded on the driver (as locally); on a cluster every worker must be able to resolve
the model reference (a shared path, or `runs:/` / `models:/` on an MLflow server).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from signlens.inference import batch
from signlens.inference.predictor import Predictor
from signlens.sweep import cluster

WINDOW_CHUNKS = 64  # chunks handed to Ray at a time: one actor start-up serves up to 64 Ki rows


class _PredictorActor:
    """Ray Data's stateful callable: one Predictor per actor, each pinned to its one core."""

    def __init__(self, ref: str | None):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        self.predictor = Predictor.from_ref(ref)

    def __call__(self, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        points = rows["points"] if "points" in rows else None
        return {"probs": self.predictor.probabilities(rows["pixels"].astype(np.uint8), points)}


class RayPredictor:
    """What batch.run needs of a Predictor: the probabilities, computed on Ray actors; `has_head`
    and the results built from them (`postprocess`), from the same model loaded here."""

    def __init__(self, ref: str | None, local: Predictor, actors: int, chunk_size: int = batch.CHUNK):
        self.ref, self.local, self.actors, self.chunk_size = ref, local, actors, chunk_size

    @property
    def has_head(self) -> bool:
        return self.local.has_head

    def postprocess(self, probs: np.ndarray, prepped: list) -> list:
        return self.local.postprocess(probs, prepped)

    def probabilities(self, grids: np.ndarray, hand_points: np.ndarray | None = None) -> np.ndarray:
        import ray

        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False  # batch.run shows its own
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        rows = [{"pixels": g} if hand_points is None else {"pixels": g, "points": p}
                for g, p in zip(grids, hand_points if hand_points is not None else grids)]
        ds = ray.data.from_items(rows).map_batches(
            _PredictorActor, fn_constructor_kwargs={"ref": self.ref}, batch_size=self.chunk_size,
            batch_format="numpy", concurrency=self.actors, num_cpus=1)
        out = [b["probs"] for b in ds.iter_batches(batch_size=None, batch_format="numpy")]
        return np.concatenate(out).astype(np.float32)


def run(ref: str | None, source: Path, output: Path, *, address: str | None = None, actors: int | None = None,
        resume: bool = False, overwrite: bool = False, all_probabilities: bool = False,
        progress: bool = True) -> batch.Summary:
    """batch.run with the model on Ray (local Ray on loopback unless `address`)."""
    import ray

    local = Predictor.from_ref(ref)  # decides whether inputs' hand landmarks are read; builds the rows
    cluster.start(cluster.address(address))
    try:
        n = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
        predictor = RayPredictor(ref, local, n)
        return batch.run(predictor, source, output, resume=resume, overwrite=overwrite,  # type: ignore[arg-type]
                         all_probabilities=all_probabilities, chunk_size=batch.CHUNK * WINDOW_CHUNKS,
                         progress=progress)
    finally:
        cluster.stop()

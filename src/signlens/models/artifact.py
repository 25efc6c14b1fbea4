"""The artifact directory: everything inference needs, loadable without the training code.

    model.keras       the Keras model (loaded with safe_mode=True)
    hand_head.keras   optional: the hand-landmark classifier for photos (hand_head.py), same loading
    signlens.json     format version, labels, preprocessing spec, dataset fingerprint, config,
                      metrics, model name; optionally `calibration` (inference/temperature.py)
    history.json      per-epoch training history
    *.png             learning curves and other figures
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signlens import labels
from signlens.data.fingerprint import file_sha256
from signlens.errors import ArtifactError
from signlens.spec import FORMAT_VERSION, HEAD_FILE, HISTORY_FILE, META_FILE, MODEL_FILE, PREPROCESS_SPEC

if TYPE_CHECKING:  # Keras (with TensorFlow and, through Keras, OpenCV) loads only when a model does
    import keras


@dataclass
class Artifact:
    model: keras.Model
    meta: dict[str, Any]
    path: Path | None = None
    history: dict[str, list[float]] = field(default_factory=dict)
    hand_head: keras.Model | None = None

    @property
    def name(self) -> str:
        return str(self.meta.get("name", self.path.name if self.path else "model"))

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "unversioned"))


def save(
    path: Path,
    model: keras.Model,
    *,
    name: str,
    config: dict[str, Any],
    fingerprint: str,
    metrics: dict[str, Any],
    history: dict[str, list[float]] | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    _save_model(model, path / MODEL_FILE)
    (path / HEAD_FILE).unlink(missing_ok=True)  # a head belongs to the model it was saved with
    meta = {
        "version": _version(path),
        "format_version": FORMAT_VERSION,
        "name": name,
        "labels": list(labels.LETTERS),
        "preprocess": PREPROCESS_SPEC,
        "dataset_fingerprint": fingerprint,
        "config": config,
        "metrics": metrics,
        **(extra or {}),
    }
    (path / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    if history is not None:
        (path / HISTORY_FILE).write_text(json.dumps(history, indent=1) + "\n")
    return path


def _save_model(model: keras.Model, target: Path) -> None:
    tmp = target.with_name(target.name + ".tmp.keras")
    model.save(tmp)
    tmp.replace(target)  # never leave a half-written model behind


def content_hash(digests: list[str], temperatures: dict[str, float] | None = None) -> str:
    """The version formula: the sha256 digests of the model (and head) files, and the calibration
    temperatures, so one version always gives the same answers with the same confidences."""
    if len(digests) == 1 and temperatures is None:
        return digests[0][:12]
    parts = "".join(digests) + (json.dumps(temperatures, sort_keys=True) if temperatures is not None else "")
    return hashlib.sha256(parts.encode()).hexdigest()[:12]


def _version(path: Path, calibration: dict[str, Any] | None = None) -> str:
    digests = [file_sha256(path / name) for name in (MODEL_FILE, HEAD_FILE) if (path / name).exists()]
    return content_hash(digests, calibration["temperatures"] if calibration is not None else None)


def save_hand_head(path: Path, head: keras.Model, record: dict[str, Any]) -> str:
    """Add (or replace) the hand-landmark head of a saved artifact; returns the new version.
    The photo temperature was fitted to the old head's answers, so it goes (the grid one stays)."""
    _save_model(head, path / HEAD_FILE)
    values: dict[str, Any] = {"hand_head": record}
    calibration = read_meta(path).get("calibration")
    if calibration is not None:
        temps = {k: v for k, v in calibration["temperatures"].items() if k != "photo"}
        values["calibration"] = calibration = {
            **calibration, "temperatures": temps,
            "photo": {"dropped": "the hand-landmark head was replaced; run signlens calibrate again"}}
    version = _version(path, calibration)
    update_meta(path, version=version, **values)
    return version


def save_calibration(path: Path, record: dict[str, Any]) -> str:
    """Store a calibration record (inference/temperature.py) in a saved artifact; returns the new
    version. The record is checked as `Predictor` will read it, so a bad one never lands."""
    from signlens.inference.temperature import temperatures

    temperatures({"calibration": record})
    version = _version(path, record)
    update_meta(path, calibration=record, version=version)
    return version


def update_meta(path: Path, **values: Any) -> None:
    meta = json.loads((path / META_FILE).read_text())
    meta.update(values)
    (path / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def read_meta(path: Path) -> dict[str, Any]:
    meta_path = path / META_FILE
    if not meta_path.exists():
        raise ArtifactError(f"{path}: not a signlens artifact (no {META_FILE})")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{meta_path}: corrupt metadata: {exc}") from None
    if meta.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{path}: artifact format {meta.get('format_version')!r} is not supported (expected {FORMAT_VERSION})"
        )
    if tuple(meta.get("labels", ())) != labels.LETTERS:
        raise ArtifactError(f"{path}: artifact labels {meta.get('labels')} do not match signlens's 24 letters")
    if meta.get("preprocess", {}).get("version") != PREPROCESS_SPEC["version"]:
        raise ArtifactError(f"{path}: artifact was made for another preprocessing version")
    return meta


def load(path: str | Path) -> Artifact:
    """Load an artifact dir; the model is deserialized with safe_mode=True (no pickled code)."""
    path = Path(path)
    if not path.is_dir():
        raise ArtifactError(f"{path}: no such artifact directory")
    meta = read_meta(path)
    model_path = path / MODEL_FILE
    if not model_path.exists():
        raise ArtifactError(f"{path}: artifact has no {MODEL_FILE}")
    import keras

    try:
        model = keras.models.load_model(model_path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a damaged or foreign file
        raise ArtifactError(f"{model_path}: cannot load model ({type(exc).__name__}: {exc})") from None
    if tuple(model.output_shape[1:]) != (labels.N_CLASSES,):
        raise ArtifactError(f"{model_path}: model outputs {model.output_shape[1:]}, expected ({labels.N_CLASSES},)")
    history_path = path / HISTORY_FILE
    history = json.loads(history_path.read_text()) if history_path.exists() else {}
    return Artifact(model, meta, path, history, _load_head(path / HEAD_FILE))


def _load_head(head_path: Path) -> keras.Model | None:
    if not head_path.exists():
        return None
    import keras

    try:
        head = keras.models.load_model(head_path, safe_mode=True, compile=False)
    except Exception as exc:
        raise ArtifactError(f"{head_path}: cannot load the hand-landmark head ({type(exc).__name__}: {exc})") from None
    if tuple(head.output_shape[1:]) != (labels.N_CLASSES,):
        raise ArtifactError(f"{head_path}: head outputs {head.output_shape[1:]}, expected ({labels.N_CLASSES},)")
    from signlens.vision.landmarks import N_FEATURES  # OpenCV: only for artifacts with a head

    if tuple(head.input_shape[1:]) != (N_FEATURES,):  # made before the landmark features last changed
        raise ArtifactError(f"{head_path}: the hand-landmark head reads {head.input_shape[1:]} features, this "
                            f"signlens makes ({N_FEATURES},): rebuild it with `signlens add-hand-head`")
    return head

"""Drift monitoring: recent predictions against the training reference.

Compared: the predicted-letter distribution (PSI against the training label distribution), the
confidence distribution and the input brightness/contrast of the 28×28 grids (PSI and the
two-sample KS test against the model's own predictions on a training sample), and the
low-confidence rate. Thresholds (stated in the report):
  PSI > 0.2 is drift (the usual rule: < 0.1 stable, 0.1-0.2 watch, > 0.2 shifted);
  KS flags drift when p < 0.01 AND the statistic > 0.1 (with thousands of rows every tiny
  difference is "significant", so the effect size must matter too);
  low-confidence (< 0.5) rate more than 0.1 above the reference.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.stats import ks_2samp

from signlens import labels
from signlens.errors import SignlensError

PSI_THRESHOLD = 0.2
KS_P = 0.01
KS_STAT = 0.1
LOW_CONFIDENCE = 0.5
LOW_CONFIDENCE_DELTA = 0.1
#: Below this many recent predictions PSI and KS are dominated by sampling noise: the report says so.
FEW_PREDICTIONS = 200


@dataclass(frozen=True)
class Check:
    name: str
    psi: float | None
    ks_stat: float | None
    ks_p: float | None
    reference: float
    current: float
    drift: bool


def psi(reference: np.ndarray, current: np.ndarray, edges: np.ndarray) -> float:
    """Population stability index over fixed bins; empty bins get a small floor, not infinity."""
    ref = np.histogram(reference, edges)[0].astype(float)
    cur = np.histogram(current, edges)[0].astype(float)
    return categorical_psi(ref, cur)


def categorical_psi(ref_counts: np.ndarray, cur_counts: np.ndarray, floor: float = 1e-4) -> float:
    ref = np.maximum(ref_counts / max(ref_counts.sum(), 1), floor)
    cur = np.maximum(cur_counts / max(cur_counts.sum(), 1), floor)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@dataclass(frozen=True)
class Reference:
    """What 'normal' looks like, from the training data and the model's predictions on it."""

    letter_counts: np.ndarray
    confidence: np.ndarray
    brightness: np.ndarray
    contrast: np.ndarray


def reference_from(x: np.ndarray, y: np.ndarray, confidence: np.ndarray) -> Reference:
    grids = x.reshape(len(x), -1).astype(np.float32)
    return Reference(np.bincount(y, minlength=labels.N_CLASSES), confidence, grids.mean(1), grids.std(1))


def recent(log_path: Path, window: int) -> dict[str, np.ndarray]:
    if not Path(log_path).exists():
        raise SignlensError(f"{log_path}: no prediction log")
    conn = sqlite3.connect(f"file:{log_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT letter, confidence, brightness, contrast FROM predictions ORDER BY ts DESC LIMIT ?", (window,)
        ).fetchall()
    finally:
        conn.close()
    if not rows:
        raise SignlensError(f"{log_path}: the prediction log is empty")
    letters, conf, bright, contr = zip(*rows)
    index = np.array([labels.index_of_letter(letter) for letter in letters])
    return {"letters": index, "confidence": np.array(conf), "brightness": np.array(bright),
            "contrast": np.array(contr)}


def _numeric(name: str, ref: np.ndarray, cur: np.ndarray, edges: np.ndarray) -> Check:
    value = psi(ref, cur, edges)
    ks = ks_2samp(ref, cur)
    drift = bool(value > PSI_THRESHOLD or (ks.pvalue < KS_P and ks.statistic > KS_STAT))
    return Check(name, value, float(ks.statistic), float(ks.pvalue), float(np.mean(ref)), float(np.mean(cur)), drift)


def compare(ref: Reference, cur: dict[str, np.ndarray]) -> list[Check]:
    letter_psi = categorical_psi(ref.letter_counts.astype(float),
                                 np.bincount(cur["letters"], minlength=labels.N_CLASSES).astype(float))
    ref_low = float(np.mean(ref.confidence < LOW_CONFIDENCE))
    cur_low = float(np.mean(cur["confidence"] < LOW_CONFIDENCE))
    return [
        Check("predicted_letter", letter_psi, None, None, 0.0, 0.0, letter_psi > PSI_THRESHOLD),
        _numeric("confidence", ref.confidence, cur["confidence"], np.linspace(0, 1, 11)),
        _numeric("brightness", ref.brightness, cur["brightness"], np.linspace(0, 255, 11)),
        _numeric("contrast", ref.contrast, cur["contrast"], np.linspace(0, 128, 11)),
        Check("low_confidence_rate", None, None, None, ref_low, cur_low, cur_low - ref_low > LOW_CONFIDENCE_DELTA),
    ]


def write_report(checks: list[Check], ref: Reference, cur: dict[str, np.ndarray], out_dir: Path) -> Path:
    from signlens.evaluation.plots import drift_figure

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "drift.json").write_text(json.dumps([asdict(c) for c in checks], indent=1) + "\n")
    drift_figure(ref, cur, out_dir / "drift.png")
    rows = "".join(
        f"<tr class={'drift' if c.drift else 'ok'}><td>{c.name}</td><td>{'' if c.psi is None else f'{c.psi:.3f}'}</td>"
        f"<td>{'' if c.ks_stat is None else f'{c.ks_stat:.3f} (p={c.ks_p:.2g})'}</td>"
        f"<td>{c.reference:.3f}</td><td>{c.current:.3f}</td><td>{'DRIFT' if c.drift else 'ok'}</td></tr>"
        for c in checks
    )
    html = (
        "<!doctype html><meta charset=utf-8><title>signlens drift report</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:.3em .8em}"
        ".drift{background:#fdd}.ok{background:#efe}</style><h1>signlens drift report</h1>"
        f"<p>{len(cur['letters'])} recent predictions vs the training reference. Thresholds: PSI &gt; {PSI_THRESHOLD}; "
        f"KS p &lt; {KS_P} and statistic &gt; {KS_STAT}; low-confidence (&lt; {LOW_CONFIDENCE}) rate more than "
        f"{LOW_CONFIDENCE_DELTA} above the reference.</p>"
        "<table><tr><th>check</th><th>PSI</th><th>KS</th><th>reference mean</th><th>current mean</th><th></th></tr>"
        f"{rows}</table><img src=drift.png style='max-width:100%'>"
    )
    (out_dir / "drift.html").write_text(html)
    return out_dir / "drift.html"

"""evaluate.evaluate(artifact, data): metrics (scikit-learn), confusion matrix, report JSON + PNGs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from signlens import labels
from signlens.vision import landmarks
from signlens.evaluation import plots
from signlens.models.artifact import Artifact
from signlens.data import Dataset
from signlens.inference.predictor import Predictor

REPORT_FILE = "report.json"


def most_confused(cm: np.ndarray, k: int = 10) -> list[dict[str, Any]]:
    off = cm.copy()
    np.fill_diagonal(off, 0)
    pairs = sorted(zip(*np.nonzero(off)), key=lambda ij: -off[ij])[:k]
    return [{"true": labels.LETTERS[i], "predicted": labels.LETTERS[j], "count": int(off[i, j])} for i, j in pairs]


def evaluate(art: Artifact, data: Dataset, out_dir: Path | None = None) -> dict[str, Any]:
    predictor = Predictor(art)
    image_probs = predictor.probabilities(data.x)
    probs = predictor.with_hands(image_probs, data.hand_points)  # combined where landmarks are, calibrated
    pred = probs.argmax(axis=1)
    classes = list(range(labels.N_CLASSES))
    precision, recall, f1, support = precision_recall_fscore_support(
        data.y, pred, labels=classes, zero_division=0
    )
    cm = confusion_matrix(data.y, pred, labels=classes)
    present = [c for c in classes if support[c] > 0]
    report: dict[str, Any] = {
        "model": art.name,
        "model_version": art.version,
        "data": data.source,
        "dataset_fingerprint": data.fingerprint,
        "n": len(data),
        "accuracy": float(accuracy_score(data.y, pred)),
        "macro_f1": float(f1_score(data.y, pred, labels=present, average="macro", zero_division=0)),
        "errors": int((pred != data.y).sum()),
        "per_letter": {
            labels.LETTERS[c]: {"precision": float(precision[c]), "recall": float(recall[c]),
                                "f1": float(f1[c]), "support": int(support[c])}
            for c in classes
        },
        "most_confused": most_confused(cm),
        "confusion_matrix": cm.tolist(),
    }
    if data.hand_points is not None and art.hand_head is not None:  # what each part contributes
        has = landmarks.has_hand(data.hand_points)
        report["hand_landmarks"] = {
            "n_with_landmarks": int(has.sum()),
            "image_model_accuracy": float((image_probs.argmax(axis=1) == data.y).mean()),
        }
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        report["files"] = [REPORT_FILE, "confusion_matrix.png"]
        plots.confusion_matrix(cm, out_dir / "confusion_matrix.png",
                               title=f"{art.name} on {Path(data.source).name}: {report['accuracy']:.2%}")
        wrong = np.flatnonzero(pred != data.y)[:48]
        if len(wrong):
            titles = [f"{labels.LETTERS[data.y[i]]}→{labels.LETTERS[pred[i]]} {probs[i].max():.0%}" for i in wrong]
            plots.image_grid(data.x[wrong], titles, out_dir / "misclassified.png",
                             title="Misclassified (true→predicted, confidence)")
            report["files"].append("misclassified.png")
        if data.boxes is not None:  # an image folder: show the crop each photo got
            from signlens.vision.crops import save_crop_grid

            marks = [f"{labels.LETTERS[t]}->{labels.LETTERS[p]}" for t, p in zip(data.y, pred)]
            save_crop_grid(data, marks, out_dir / "crops.png")
            report["files"].append("crops.png")
        (out_dir / REPORT_FILE).write_text(json.dumps(report, indent=1) + "\n")
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"model {report['model']} ({report['model_version']}) on {report['data']} (n={report['n']})",
        f"accuracy  {report['accuracy']:.4%}   macro-F1 {report['macro_f1']:.4f}   errors {report['errors']}",
        "",
        "letter  precision  recall     f1  support",
    ]
    if "hand_landmarks" in report:
        hands = report["hand_landmarks"]
        lines[2:2] = [f"hand landmarks found in {hands['n_with_landmarks']} of {report['n']} photos; "
                      f"the image model alone: {hands['image_model_accuracy']:.4%}"]
    for letter, m in report["per_letter"].items():
        if m["support"]:
            lines.append(f"  {letter}      {m['precision']:.3f}   {m['recall']:.3f}  {m['f1']:.3f}  {m['support']:7d}")
    if report["most_confused"]:
        lines += ["", "most confused (true → predicted: count)"]
        lines += [f"  {p['true']} → {p['predicted']}: {p['count']}" for p in report["most_confused"]]
    return "\n".join(lines)

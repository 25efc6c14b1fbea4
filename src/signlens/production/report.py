"""`signlens ab report`: per-variant requests, feedback, online accuracy and a significance test."""

from __future__ import annotations

import itertools
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from signlens.errors import SignlensError
from signlens.production.ab import two_proportion_z_test, wilson_interval


@dataclass(frozen=True)
class VariantStats:
    variant: str
    requests: int
    feedback: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.feedback if self.feedback else None


def variant_stats(log_path: Path) -> list[VariantStats]:
    if not Path(log_path).exists():
        raise SignlensError(f"{log_path}: no prediction log (start the server with a prediction log first)")
    conn = sqlite3.connect(f"file:{log_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            """SELECT p.variant, COUNT(*), COUNT(f.prediction_id), SUM(f.true_letter = p.letter)
               FROM predictions p LEFT JOIN feedback f ON f.prediction_id = p.id
               GROUP BY p.variant ORDER BY p.variant"""
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise SignlensError(f"{log_path}: not a signlens prediction log ({exc})") from None
    finally:
        conn.close()
    return [VariantStats(v, n, fb, int(ok or 0)) for v, n, fb, ok in rows]


def _comparison(a: VariantStats, b: VariantStats, alpha: float) -> str:
    """One pair's z-test, or why there is none: a variant without feedback has no accuracy to test."""
    waiting = [s.variant for s in (a, b) if s.feedback == 0]
    if waiting:
        return f"  {a.variant} vs {b.variant}: no feedback yet for {' and '.join(waiting)}"
    z, p = two_proportion_z_test(a.correct, a.feedback, b.correct, b.feedback)
    verdict = "significant" if p < alpha else "not significant"
    return f"  {a.variant} vs {b.variant}: z = {z:+.2f}, p = {p:.4f} -> {verdict}"


def format_report(stats: list[VariantStats], alpha: float = 0.05) -> str:
    lines = [f"{'variant':14s} {'requests':>9s} {'feedback':>9s} {'accuracy':>9s}  95% CI (Wilson)"]
    for s in stats:
        if s.feedback:
            lo, hi = wilson_interval(s.correct, s.feedback)
            acc, interval = f"{s.accuracy:.1%}", f"[{lo:.1%}, {hi:.1%}]"
        else:
            acc, interval = "-", "no feedback yet"
        lines.append(f"{s.variant:14s} {s.requests:9d} {s.feedback:9d} {acc:>9s}  {interval}")
    lines.append("")
    lines.append(f"two-sided two-proportion z-test on feedback accuracy, alpha = {alpha}:")
    lines += [_comparison(a, b, alpha) for a, b in itertools.combinations(stats, 2)]
    if len(stats) < 2:
        lines.append("  (needs at least two variants)")
    lines.append("note: feedback is volunteered, so it over-represents mistakes; compare variants, not absolutes.")
    return "\n".join(lines)

"""Server settings: one frozen dataclass, built by the CLI (or a test) and handed to create_app.

Nothing reads the environment at import time; the defaults live here and only here (the ones that
depend on the working directory are computed when the settings are built, not when imported).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


def _default_log() -> Path:
    from signlens.paths import prediction_log

    return prediction_log()


def _default_teach_dir() -> Path:
    from signlens.paths import state_dir

    return state_dir() / "teach"


def _default_examples() -> Path:
    from signlens.paths import REPO_ROOT

    return REPO_ROOT / "examples"


def _default_model_root() -> Path:
    from signlens.paths import DEFAULT_MODEL

    return DEFAULT_MODEL.parent


@dataclass(frozen=True)
class ServeSettings:
    #: (name, ref) pairs; ref is an artifact or TF.js directory, None = the shipped default model.
    models: tuple[tuple[str, str | None], ...] = (("default", None),)
    #: Largest request body accepted (bytes); larger uploads get 413 before being read in full.
    max_upload_bytes: int = 8 * 1024 * 1024
    #: Largest decoded image (pixels): a 4K camera frame (3840×2160) fits; bigger photos are refused,
    #: as every photo is read at a few hundred pixels a side anyway (and a 4000×4000 PNG costs ~200 MB).
    max_image_pixels: int = 3840 * 2160
    #: Images over 28×28 decoded at once (each on a worker thread); more wait their turn, so
    #: parallel big uploads cannot add up to gigabytes or starve the inference thread of CPU.
    max_heavy_decodes: int = 2
    #: Most images in one /v1/predict/batch request.
    max_batch_images: int = 64
    max_spell_letters: int = 32  # most letters (images) in one /v1/spell request
    #: Micro-batching: most requests gathered into one model call, and how long to wait for them.
    batch_max_size: int = 64
    batch_wait_ms: float = 2.0
    #: Page defaults for fingerspelling: how long a letter must stay on top, and how sure.
    hold_ms: int = 800
    hold_confidence: float = 0.6  # label smoothing (0.1) caps confident answers near 0.9
    #: A/B traffic weights over served names, e.g. (('champion', 90), ('challenger', 10));
    #: empty = every request without ?model= goes to the first model.
    traffic: tuple[tuple[str, float], ...] = ()
    #: SQLite prediction log (None = off); the 28×28 grids are stored only with log_images.
    prediction_log: Path | None = field(default_factory=_default_log)
    log_images: bool = False
    #: Recent predictions kept in memory for the confidence gauges in /metrics.
    recent_window: int = 500
    #: Bearer token for /v1/admin/*; None disables the admin endpoints altogether.
    admin_token: str | None = None
    #: Images of known letters (`<LETTER>.png`, 28×28) every served model is smoke-checked on.
    known_examples: Path = field(default_factory=_default_examples)
    #: Path refs given to /v1/admin/reload must resolve inside this directory.
    model_root: Path = field(default_factory=_default_model_root)
    #: Teach mode (page: capture samples, fine-tune a personal model): where sessions live; None = off.
    teach_dir: Path | None = field(default_factory=_default_teach_dir)
    teach_max_per_letter: int = 30
    #: Teach sessions kept on disk; past it the oldest unused (sample-less) ones are removed.
    teach_max_sessions: int = 200
    #: Rehearsal data mixed into personal fine-tunes (None = the vendored Sign-MNIST train split).
    teach_anchor: str | None = None

    def __post_init__(self) -> None:
        names = [name for name, _ in self.models]
        if not names:
            raise ValueError("at least one model must be served")
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique, got {names}")
        if min(self.max_upload_bytes, self.batch_max_size, self.max_batch_images, self.max_heavy_decodes) <= 0:
            raise ValueError("size limits must be positive")
        check_traffic(self.traffic, names)
        if self.admin_token is not None and len(self.admin_token) < 16:
            raise ValueError("the admin token must be at least 16 characters")


def check_traffic(traffic: tuple[tuple[str, float], ...], names: list[str]) -> None:
    """Weights must name served models, be non-negative and not all zero (also used by PUT traffic)."""
    if not traffic:
        return
    given = [n for n, _ in traffic]
    if len(set(given)) != len(given):
        raise ValueError(f"traffic names must be unique, got {given}")
    unknown = [n for n in given if n not in names]
    if unknown:
        raise ValueError(f"traffic names {unknown} are not served models ({', '.join(names)})")
    if any(w < 0 for _, w in traffic) or sum(w for _, w in traffic) <= 0:
        raise ValueError("traffic weights must be non-negative and not all zero")

"""data.load: the one entry point from files to a validated, fingerprinted Dataset.

Accepts a Sign-MNIST CSV (.csv or .csv.gz), a directory holding sign_mnist_{train,test}.csv[.gz],
or an image folder laid out <root>/<LETTER>/*.{png,jpg,jpeg}. No path means the vendored data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from signlens import labels, paths
from signlens.data.dataset import Dataset
from signlens.data.fingerprint import file_sha256, fingerprint
from signlens.data.validate import read_csv
from signlens.errors import DataError, SignlensError

#: The vendored Sign-MNIST, shipped in the repository next to src/.
EMBEDDED_DIR = paths.embedded_data_dir()
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
SPLITS = ("train", "test")


def portable(source: str) -> str:
    """A dataset source as an artifact should record it: the vendored data relative to the project
    (`data/sign-mnist/...`), so a shipped model does not name a path on the machine that trained it."""
    try:
        return Path(source).resolve().relative_to(paths.REPO_ROOT).as_posix()
    except ValueError:
        return source


def image_files(root: Path) -> list[Path]:
    """Every image file under root, recursively, sorted (a flat folder or <LETTER>/ subfolders alike)."""
    return sorted(p for p in Path(root).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _split_file(directory: Path, split: str) -> Path | None:
    for suffix in (".csv.gz", ".csv"):
        candidate = directory / f"sign_mnist_{split}{suffix}"
        if candidate.exists():
            return candidate
    return None


def _load_csv(path: Path, skip_invalid: bool) -> Dataset:
    """Parse once, then reuse a cache keyed by the file's sha256 (the parse takes seconds)."""
    key = file_sha256(path) if path.exists() else None
    cached = paths.cache_dir() / f"csv-{key}.npz" if key else None
    if cached is not None and cached.exists():
        with np.load(cached) as npz:
            x, y = npz["x"], npz["y"]
        return Dataset(x, y, str(path), fingerprint(x, y), tuple(f"line {i + 2}" for i in range(len(y))))
    x, y, ids, skipped = read_csv(path, skip_invalid)
    if cached is not None and not skipped:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp.npz")
            np.savez(tmp, x=x, y=y)
            tmp.replace(cached)
        except OSError:
            pass  # a read-only cache only costs speed
    return Dataset(x, y, str(path), fingerprint(x, y), ids, tuple(skipped))


def _load_folder(root: Path, skip_invalid: bool) -> Dataset:
    # OpenCV and the landmark model load only when a folder of photos is read, not for every CSV
    from signlens.vision import landmarks
    from signlens.vision.preprocess import ImageDecodeError, preprocess

    dirs = sorted(p for p in root.iterdir() if p.is_dir())
    if not dirs:
        raise DataError(str(root), "no letter folders: expected <root>/<LETTER>/*.png|jpg|jpeg")
    items: list[tuple[Path, int]] = []
    for d in dirs:
        try:
            y = labels.index_of_letter(d.name)
        except ValueError as exc:
            raise DataError(str(d), f"folder name is not a letter label: {exc}") from None
        items += [(p, y) for p in sorted(d.iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    if not items:
        raise DataError(str(root), "no .png/.jpg/.jpeg images in the letter folders")
    xs, ys, ids, points, boxes, found, skipped = [], [], [], [], [], [], []
    for path, y in tqdm(items, desc=f"reading {root.name}", unit="img", disable=True if len(items) < 200 else None):  # None: off when not a TTY
        try:
            prepped = preprocess(path.read_bytes())
        except (ImageDecodeError, OSError) as exc:
            err = DataError(str(path), f"unreadable image: {exc}")
            if not skip_invalid:
                raise err from None
            skipped.append(err)
            continue
        xs.append(prepped.pixels)
        points.append(prepped.hand_points)
        boxes.append(prepped.box)
        found.append(prepped.hand_found)
        ys.append(y)
        ids.append(str(path))
    if not xs:
        raise DataError(str(root), "no readable images")
    x, yarr = np.stack(xs), np.asarray(ys, dtype=np.int64)
    return Dataset(x, yarr, str(root), fingerprint(x, yarr), tuple(ids), tuple(skipped), landmarks.as_array(points),
                   np.asarray(boxes, dtype=np.int64), np.asarray(found, dtype=bool))


def load(path: str | Path | None = None, split: str = "train", skip_invalid: bool = False) -> Dataset:
    """Load and validate a dataset; raises DataError naming file, row, column and reason."""
    if split not in SPLITS:
        raise SignlensError(f"split must be one of {SPLITS}, not {split!r}")
    root = Path(path) if path is not None else EMBEDDED_DIR
    if not root.exists():
        raise DataError(str(root), "no such file or directory")
    if root.is_file():
        return _load_csv(root, skip_invalid)
    split_file = _split_file(root, split)
    if split_file is not None:
        return _load_csv(split_file, skip_invalid)
    return _load_folder(root, skip_invalid)

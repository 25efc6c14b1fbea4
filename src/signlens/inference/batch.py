"""Offline batch prediction: a CSV of any size or an image folder -> one output CSV row per input.

Inputs are streamed in chunks, so memory stays flat however big the file is (only the ids already
done are kept, for --resume). Bad rows never stop the job: they go to an errors CSV with the
reason. Both files are appended and flushed chunk by chunk, so a killed job resumes where it was:
with `resume=True` every id already in the output or the errors file is skipped, and a torn last
line (killed mid-write) is cut off first.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, TextIO

import numpy as np
from tqdm import tqdm

from signlens import labels
from signlens.vision import landmarks
from signlens.data.load import image_files
from signlens.data.validate import HEADER, N_PIXELS, _open_text, _rows
from signlens.errors import DataError, SignlensError
from signlens.inference.predictor import Predictor
from signlens.vision.preprocess import ImageDecodeError, Preprocessed, preprocess

CHUNK = 1024
ERROR_COLUMNS = ["id", "column", "reason"]
#: One input: its id, and either what `preprocess` made of it or the error that makes it unusable.
Item = tuple[str, "Preprocessed | DataError"]


@dataclass(frozen=True)
class Summary:
    predicted: int
    errors: int
    skipped: int  # already done in an earlier run (--resume)
    output: Path
    errors_file: Path


def errors_path(output: Path) -> Path:
    return output.with_name(output.stem + ".errors.csv")


def output_columns(all_probabilities: bool) -> list[str]:
    """`hand` is last, so the columns before it stay where they were; 0 means "no hand" (the letter is
    then only the least unlikely one, see Predictor.sees_hand)."""
    return ["id", "letter", "confidence"] + ([f"p_{c}" for c in labels.LETTERS] if all_probabilities else []) + ["hand"]


# --- reading inputs -------------------------------------------------------------------------------

def _csv_items(path: Path) -> Iterator[Item]:
    """Rows of a Sign-MNIST CSV (label column optional and ignored): id 'line N' as data.load names it.

    The header is checked now, not at the first `next`, so a wrong file fails before outputs exist.
    """
    name = str(path)
    f = _open_text(path)
    rows = _rows(name, f)
    first = next(rows, None)
    header = [h.strip() for h in first[1]] if first else []
    if header not in (HEADER, HEADER[1:]):
        f.close()
        raise DataError(name, "header must be 'label,pixel1,...,pixel784' or 'pixel1,...,pixel784'", row=1)
    skip = len(header) - N_PIXELS  # 1 with a label column, else 0

    def parsed() -> Iterator[Item]:
        with f:
            for line, row, is_last in rows:
                if row in ([], [""]) and is_last:
                    continue
                grid = _parse_pixels(name, line, row, skip, header)
                yield f"line {line}", grid if isinstance(grid, DataError) else preprocess(grid)

    return parsed()


def _parse_pixels(name: str, line: int, row: list[str], skip: int, header: list[str]) -> np.ndarray | DataError:
    if len(row) != len(header):
        return DataError(name, f"expected {len(header)} fields, found {len(row)}", row=line)
    try:
        values = np.array(row[skip:], dtype=np.int64)
    except ValueError:
        bad_field = ((c, t) for c, t in zip(header[skip:], row[skip:]) if not t.strip().lstrip("-").isdigit())
        col, text = next(bad_field, (None, "a field"))
        return DataError(name, f"{text!r} is not an integer", row=line, column=col)
    bad = np.flatnonzero((values < 0) | (values > 255))
    if bad.size:
        return DataError(name, f"pixel value {values[bad[0]]} is outside 0..255", row=line,
                         column=header[skip + int(bad[0])])
    return values.astype(np.uint8).reshape(28, 28)


def _folder_items(root: Path, hands: bool) -> Iterator[Item]:
    """Every image under root (recursively, sorted); id = path relative to root."""
    for path in image_files(root):
        rel = str(path.relative_to(root))
        try:
            yield rel, preprocess(path.read_bytes(), hands=hands)
        except (ImageDecodeError, OSError) as exc:
            yield rel, DataError(str(path), f"unreadable image: {exc}")


def _count(source: Path) -> int:
    """Number of inputs, for the progress bar's ETA; a newline count is cheap even for big CSVs."""
    if source.is_dir():
        return len(image_files(source))
    with open(source, "rb") as raw:
        gz = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    lines, last = 0, b"\n"
    with opener(source, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    return max(0, lines + (last != b"\n") - 1)  # minus the header


def items(source: Path, hands: bool = True) -> Iterator[Item]:
    """(id, Preprocessed or DataError) for each input; `hands`: take photos' hand landmarks."""
    if not source.exists():
        raise SignlensError(f"{source}: no such file or directory")
    return _folder_items(source, hands) if source.is_dir() else _csv_items(source)


# --- resuming -------------------------------------------------------------------------------------

def _done_ids(path: Path) -> set[str]:
    """Ids already written; cuts a torn last line (a kill mid-write) so appending stays valid CSV."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[: data.rfind(b"\n") + 1])
    with open(path, newline="") as f:
        return {row["id"] for row in csv.DictReader(f)}


def _open_out(path: Path, columns: list[str], append: bool) -> tuple[TextIO, csv.writer]:
    fresh = not (append and path.exists() and path.stat().st_size)
    if not fresh:
        with open(path, newline="") as f:
            if next(csv.reader(f), None) != columns:
                raise SignlensError(f"{path}: columns differ from this run's (--all-probabilities changed?); "
                                    "use another output or drop --resume")
    f = open(path, "w" if fresh else "a", newline="")
    writer = csv.writer(f)
    if fresh:
        writer.writerow(columns)
    return f, writer


# --- the job --------------------------------------------------------------------------------------

def run(predictor: Predictor, source: Path, output: Path, *, resume: bool = False, overwrite: bool = False,
        all_probabilities: bool = False, chunk_size: int = CHUNK, progress: bool = True) -> Summary:
    """Predict every input in `source` into `output` (CSV); bad inputs go to `<output>.errors.csv`."""
    source, output = Path(source), Path(output)
    errs = errors_path(output)
    if output.exists() and not (resume or overwrite):
        raise SignlensError(f"{output} exists: pass --resume to continue it or --overwrite to replace it")
    done = _done_ids(output) | _done_ids(errs) if resume else set()
    columns = output_columns(all_probabilities)
    stream = items(source, hands=predictor.has_head)  # fails fast on a missing file or bad header, before touching outputs
    out_f, out_w = _open_out(output, columns, append=resume)
    err_f, err_w = _open_out(errs, ERROR_COLUMNS, append=resume)
    predicted = errors = skipped = 0
    bar = tqdm(total=_count(source), unit="img", desc=f"predict {source.name}", disable=not progress,
               smoothing=0.1)
    ids: list[str] = []
    inputs: list[Preprocessed] = []

    def flush() -> None:
        nonlocal predicted
        if inputs:
            probs = predictor.probabilities(np.stack([p.pixels for p in inputs]),
                                            landmarks.as_array([p.hand_points for p in inputs]))
            best = probs.argmax(1)
            for i, row, b, pre in zip(ids, probs, best, inputs):
                extra = [f"{p:.6f}" for p in row] if all_probabilities else []
                out_w.writerow([i, labels.LETTERS[b], f"{row[b]:.6f}", *extra, int(predictor.sees_hand(pre))])
            predicted += len(ids)
            bar.update(len(ids))
        out_f.flush()
        err_f.flush()
        ids.clear()
        inputs.clear()

    try:
        for item_id, value in stream:
            if item_id in done:
                skipped += 1
                bar.update(1)
                continue
            if isinstance(value, DataError):
                err_w.writerow([item_id, value.column or "", value.reason])
                errors += 1
                bar.update(1)
                continue
            ids.append(item_id)
            inputs.append(value)
            if len(inputs) >= chunk_size:
                flush()
        flush()
    finally:
        bar.close()
        out_f.close()
        err_f.close()
    return Summary(predicted, errors, skipped, output, errs)

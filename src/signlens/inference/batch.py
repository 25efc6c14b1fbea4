"""Offline batch prediction: a CSV of any size or an image folder -> one output CSV row per input.

Inputs are streamed in chunks, so memory stays flat however big the file is (only the ids already
done are kept, for --resume). Bad rows never stop the job: they go to an errors CSV with the
reason. Both files are appended and flushed chunk by chunk, so a killed job resumes where it was:
with `resume=True` every id already in the output or the errors file is skipped, and a torn last
line (killed mid-write) is cut off first.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, TextIO

import numpy as np
from tqdm import tqdm

from signlens import labels
from signlens.vision import landmarks
from signlens.data.load import image_files
from signlens.data.csv_reader import HEADER, N_PIXELS, Row, count_rows, parse_pixels, read_rows
from signlens.errors import DataError, SignlensError
from signlens.inference.predictor import Prediction, Predictor
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


def _output_row(item_id: str, pred: Prediction, all_probabilities: bool) -> list[str]:
    """One output CSV row, in `output_columns` order."""
    extra = [f"{pred.probabilities[c]:.6f}" for c in labels.LETTERS] if all_probabilities else []
    return [item_id, pred.letter, f"{pred.confidence:.6f}", *extra, int(pred.hand)]


# --- reading inputs -------------------------------------------------------------------------------

def _csv_items(path: Path) -> Iterator[Item]:
    """Rows of a Sign-MNIST CSV (label column optional and ignored): id 'line N' as data.load names it.

    The header is checked now, not at the first `next`, so a wrong file fails before outputs exist.
    A file that stops being readable (corrupt gzip) ends the stream with that error as its last item.
    """
    name = str(path)
    rows = read_rows(path)
    first = next(rows, None)
    header = [h.strip() for h in first.fields] if first else []
    if header not in (HEADER, HEADER[1:]):
        rows.close()
        raise DataError(name, "header must be 'label,pixel1,...,pixel784' or 'pixel1,...,pixel784'", row=1)
    skip = len(header) - N_PIXELS  # 1 with a label column, else 0

    def parsed() -> Iterator[Item]:
        try:
            for row in rows:
                if not row.fields and row.error is None and row.is_last:
                    continue
                grid = _parse_pixels(name, row, skip, header)
                yield f"line {row.line}", grid if isinstance(grid, DataError) else preprocess(grid)
        except DataError as exc:
            yield f"line {exc.row}", exc

    return parsed()


def _parse_pixels(name: str, row: Row, skip: int, header: list[str]) -> np.ndarray | DataError:
    if row.error is not None:
        return row.error
    if len(row.fields) != len(header):
        return DataError(name, f"expected {len(header)} fields, found {len(row.fields)}", row=row.line)
    try:
        return parse_pixels(name, row.line, row.fields[skip:], header[skip:]).reshape(28, 28)
    except DataError as exc:
        return exc


def _folder_items(root: Path, hands: bool) -> Iterator[Item]:
    """Every image under root (recursively, sorted); id = path relative to root."""
    for path in image_files(root):
        rel = str(path.relative_to(root))
        try:
            yield rel, preprocess(path.read_bytes(), hands=hands)
        except (ImageDecodeError, OSError) as exc:
            yield rel, DataError(str(path), f"unreadable image: {exc}")


def _count(source: Path) -> int | None:
    """Number of inputs, for the progress bar's ETA (None: unknown, the file does not read to the end)."""
    return len(image_files(source)) if source.is_dir() else count_rows(source)


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
    bar = tqdm(total=_count(source), unit="img", desc=f"predict {source.name}", disable=None if progress else True,  # None: off when not a TTY
               smoothing=0.1)
    ids: list[str] = []
    inputs: list[Preprocessed] = []

    def flush() -> None:
        nonlocal predicted
        if inputs:
            probs = predictor.probabilities(np.stack([p.pixels for p in inputs]),
                                            landmarks.as_array([p.hand_points for p in inputs]))
            for i, pred in zip(ids, predictor.postprocess(probs, inputs)):
                out_w.writerow(_output_row(i, pred, all_probabilities))
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

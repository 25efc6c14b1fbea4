"""Spelling words from real photos: per-letter argmax against the lexicon decoder (signlens.spelling).

    .venv/bin/python bench/words.py PHOTOS [--model models/default] [--seed 0]     # ~3 min on 2 busy cores

PHOTOS is the dev photo folder <LETTER>/*.jpeg (e.g. ../shared/data/real-photos-dev: two people,
hand3 and hand4, 10 photos a letter). Each photo's probability vector is computed once, through
`Predictor` (the shipped default never saw any dev photo: zero-shot, so every person is unseen), and
cached (--cache, keyed by model version and photo list). Then each test word is spelled by one random
person: for each of its letters, a random dev photo of that letter by that person. Three readers on
the same draws: per-letter argmax, the decoder on the model's probabilities, and the decoder with
the channel calibrated by a confusion matrix fit on the other person's photos (never the speller's).

Words: the 2,000 most frequent words of the built-in lexicon (no J/Z, length >= 2) and NAMES below
(200 common US first names without J/Z, written for this bench). Each set is run clean, and with one
random letter dropped or doubled per word (as the live segmenter might). CER = character edits
(Levenshtein) / characters of the true words.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from signlens import labels  # noqa: E402
from signlens.paths import cache_dir  # noqa: E402
from signlens.spelling import decode, english  # noqa: E402
from signlens.spelling.channel import fit_confusion  # noqa: E402

NAMES = """
MARY PATRICIA LINDA BARBARA SUSAN MARGARET SARAH KAREN NANCY LISA BETTY DOROTHY SANDRA
ASHLEY KIMBERLY DONNA EMILY MICHELLE CAROL AMANDA MELISSA DEBORAH STEPHANIE REBECCA LAURA SHARON
CYNTHIA KATHLEEN AMY SHIRLEY ANGELA HELEN ANNA BRENDA PAMELA NICOLE SAMANTHA KATHERINE EMMA RUTH
CHRISTINE CATHERINE DEBRA RACHEL CAROLYN MARIA HEATHER DIANE VIRGINIA OLIVIA SOPHIA ISABELLA
CHARLOTTE AMELIA MIA HARPER EVELYN ABIGAIL ELLA AVERY SCARLETT GRACE CHLOE VICTORIA RILEY ARIA LILY
NORA HANNAH ADDISON ELEANOR NATALIE LEAH AUDREY CLAIRE ALICE SADIE PAIGE ROSE IRIS IVY VIOLET
HAILEY FIONA MAYA RUBY STELLA PIPER PENELOPE LUCY ALLISON SAVANNAH BROOKE CLARA HOLLY WENDY TRACY
ROBERT MICHAEL WILLIAM DAVID RICHARD THOMAS CHARLES CHRISTOPHER DANIEL MATTHEW ANTHONY MARK DONALD
STEVEN PAUL ANDREW KENNETH KEVIN BRIAN GEORGE TIMOTHY RONALD EDWARD RYAN GARY NICHOLAS ERIC STEPHEN
LARRY SCOTT FRANK BRANDON RAYMOND GREGORY SAMUEL PATRICK ALEXANDER DENNIS TYLER AARON HENRY PETER
ADAM DOUGLAS NATHAN WALTER KYLE CARL ARTHUR GERALD ROGER KEITH LAWRENCE TERRY SEAN CHRISTIAN ALBERT
AUSTIN ETHAN BRUCE BRYAN LOUIS RUSSELL PHILIP HARRY VINCENT LIAM NOAH OLIVER ELIAS
MASON LUCAS LOGAN OWEN CALEB ISAAC HUNTER CONNOR LEVI MILES DYLAN COLIN SIMON MARTIN VICTOR OSCAR
FELIX HUGO THEO LEO MAX OTTO IAN GAVIN ADRIAN CALVIN DEAN GLENN HAROLD HOWARD IVAN LEON NEIL
""".split()


def draw_photos(photos: Path) -> dict[str, list[Path]]:
    by_letter = {letter: sorted((photos / letter).glob("*.jp*g")) for letter in labels.LETTERS}
    missing = [letter for letter, files in by_letter.items() if not files]
    if missing:
        raise SystemExit(f"{photos}: no photos for {', '.join(missing)}")
    return by_letter


def photo_probabilities(by_letter: dict[str, list[Path]], model: str, cache: Path) -> dict[Path, np.ndarray]:
    """Each photo's (24,) probabilities, computed once per model version and photo list."""
    from signlens.inference.predictor import Predictor
    from signlens.models import artifact

    files = [f for letter in labels.LETTERS for f in by_letter[letter]]
    predictor = Predictor(artifact.load(model))
    key = f"{predictor.name}:{predictor.version}:" + ",".join(f.name for f in files)
    if cache.exists():
        saved = np.load(cache, allow_pickle=False)
        if str(saved["key"]) == key:
            return dict(zip(files, saved["probs"]))
    predictions = [p for i in range(0, len(files), 16) for p in predictor.predict([f.read_bytes() for f in files[i:i + 16]])]
    probs = np.array([[p.probabilities[letter] for letter in labels.LETTERS] for p in predictions])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, key=key, probs=probs)
    return dict(zip(files, probs))


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def person_of(path: Path) -> str:
    found = re.search(r"hand\d+", path.name)
    return found.group(0) if found else "all"


def readings(word: str, photos: dict[str, list[Path]], probs: dict[Path, np.ndarray],
             rng: np.random.Generator, corrupt: bool) -> np.ndarray:
    """One random photo's probabilities per letter; `corrupt`: one letter dropped or doubled."""
    rows = [probs[photos[c][rng.integers(len(photos[c]))]] for c in word]
    if corrupt:
        k = int(rng.integers(len(rows)))
        if rng.random() < 0.5 and len(rows) > 1:
            del rows[k]
        else:  # the segmenter reads one hold twice: the same photo's probabilities again
            rows.insert(k, rows[k])
    return np.array(rows)


class Score:
    """Word top-1/top-3 and character edits of one method over a word set."""

    def __init__(self) -> None:
        self.top1 = self.top3 = self.edits = self.chars = self.n = 0
        self.seconds: list[float] = []  # wall clock per decode
        self.cpu_seconds: list[float] = []  # this process's CPU time: what a decode costs on a core of its own

    def add(self, word: str, found: list[str]) -> None:
        self.n += 1
        self.top1 += found[0] == word
        self.top3 += word in found[:3]
        self.edits += edit_distance(found[0], word)
        self.chars += len(word)

    def cells(self, timed: bool) -> str:
        ms = (f"{1000 * np.mean(self.cpu_seconds):>8.2f} {1000 * np.percentile(self.cpu_seconds, 95):>7.2f} "
              f"{1000 * np.mean(self.seconds):>8.2f}") if timed else f"{'':>8} {'':>7} {'':>8}"
        top3 = f"{self.top3 / self.n:>7.1%}" if timed else f"{'':>7}"
        return f"{self.top1 / self.n:>7.1%} {top3} {self.edits / self.chars:>7.1%} {ms}"


def run(words: list[str], people: dict[str, dict[str, list[Path]]], probs, confusions, lexicon, seed: int,
        corrupt: bool) -> tuple[float, dict[str, Score]]:
    """Each word spelled by one random person; argmax, decoder, and decoder with the channel
    calibrated on the other person(s), on the same readings."""
    rng = np.random.default_rng(seed)
    letters_right = letters = 0
    scores = {name: Score() for name in ("argmax", "decoder", "decoder + channel")}
    names = sorted(people)
    for word in words:
        person = names[int(rng.integers(len(names)))]
        rows = readings(word, people[person], probs, rng, corrupt)
        reading = "".join(labels.LETTERS[i] for i in rows.argmax(axis=1))
        if not corrupt:
            letters_right += sum(a == b for a, b in zip(reading, word))
            letters += len(word)
        scores["argmax"].add(word, [reading])
        for name, confusion in (("decoder", None), ("decoder + channel", confusions[person])):
            start, cpu_start = time.perf_counter(), time.process_time()
            found = [c.text for c in decode(rows, lexicon, top=3, confusion=confusion)]
            scores[name].cpu_seconds.append(time.process_time() - cpu_start)
            scores[name].seconds.append(time.perf_counter() - start)
            scores[name].add(word, found)
    return (letters_right / letters if letters else float("nan")), scores


def split_people(by_letter: dict[str, list[Path]], probs: dict[Path, np.ndarray]):
    """Photos by person, and for each person a confusion matrix fit on everyone else's photos."""
    people: dict[str, dict[str, list[Path]]] = {}
    for letter, files in by_letter.items():
        for f in files:
            people.setdefault(person_of(f), {l: [] for l in labels.LETTERS})[letter].append(f)
    confusions = {}
    for person in people:
        others = [(probs[f], labels.LETTERS.index(l)) for p, photos in people.items() if p != person
                  for l, files in photos.items() for f in files]
        confusions[person] = fit_confusion(np.array([o[0] for o in others]), np.array([o[1] for o in others])) if others else None
    return people, confusions


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", type=Path)
    p.add_argument("--model", default="models/default")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("bench/results/words.txt"))
    p.add_argument("--cache", type=Path, default=cache_dir() / "bench-words-probs.npz",
                   help="photo probabilities, reused while the model and photos are the same")
    args = p.parse_args()

    by_letter = draw_photos(args.photos)
    probs = photo_probabilities(by_letter, args.model, args.cache)
    lexicon = english()
    frequent = lexicon.most_frequent(2000, min_length=2)
    assert len(set(NAMES)) == 200 and not any(set(n) & {"J", "Z"} for n in NAMES), "NAMES: 200, no J/Z"
    decode(np.full((3, labels.N_CLASSES), 1 / labels.N_CLASSES), lexicon)  # warm-up: first-call costs
    people, confusions = split_people(by_letter, probs)
    lines = [f"signlens spelling bench: {len(frequent)} frequent words, {len(NAMES)} first names "
             f"({sum(n in lexicon for n in NAMES)} of them in the lexicon); each word spelled by one random "
             f"person ({', '.join(sorted(people))}), each letter a random photo of that person's, from "
             f"{sum(map(len, by_letter.values()))} dev photos in {args.photos}; model {args.model} (zero-shot: "
             f"it never saw a dev photo); seed {args.seed}",
             "channel: a confusion matrix fit on the other person's photos (spelling.channel), never the signer's",
             f"CPU: {cpu_name()} (2 cores shared with other jobs while measured: load average {os.getloadavg()[0]:.0f}; "
             "decode time is given as CPU time per word, mean and p95, and as wall time, which includes "
             "waiting for a core)", "",
             f"{'words':<9} {'segmenter':<18} {'letters':>7}  {'method':<18} {'top-1':>7} {'top-3':>7} {'CER':>7} "
             f"{'CPU ms':>8} {'p95':>7} {'wall ms':>8}"]
    for name, words in (("frequent", frequent), ("names", NAMES)):
        for corrupt in (False, True):
            letter_accuracy, scores = run(words, people, probs, confusions, lexicon, args.seed, corrupt)
            for method, score in scores.items():
                letter = f"{letter_accuracy:.1%}" if method == "argmax" and not corrupt else ""
                lines.append(f"{name:<9} {'1 dropped/doubled' if corrupt else 'clean':<18} {letter:>7}  {method:<18} "
                             f"{score.cells(method != 'argmax')}")
    text = "\n".join(lines)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

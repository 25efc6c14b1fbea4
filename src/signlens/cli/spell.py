"""`signlens spell IMG1 IMG2 ...`: one photo per signed letter, in order -> the word spelled.

Each photo goes through `Predictor`; the letter probabilities go to the lexicon decoder
(signlens.spelling). TensorFlow loads only once the arguments and the word file have been checked.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from signlens.errors import SignlensError


def _spell(args: argparse.Namespace) -> None:
    from signlens.spelling import english, read_words
    from signlens.spelling.result import spell

    paths = [Path(p) for p in args.images]
    for path in paths:
        if not path.is_file():
            raise SignlensError(f"{path}: no such file")
    lexicon = english()
    if args.words:
        lexicon = lexicon.with_words(read_words(Path(args.words)))
    import numpy as np

    from signlens import labels
    from signlens.inference.predictor import Predictor
    from signlens.vision.preprocess import ImageDecodeError, decode_image

    images = []
    for path in paths:
        try:
            images.append(decode_image(path.read_bytes()))
        except ImageDecodeError as exc:
            raise SignlensError(f"{path}: {exc}") from None
    predictions = Predictor.from_ref(args.model).predict(images)
    probs = np.array([[p.probabilities[letter] for letter in labels.LETTERS] for p in predictions])
    answer = spell(probs, lexicon, top=args.top)
    if args.json:
        print(json.dumps(answer, indent=2))
        return
    print(answer["text"])
    reading = "".join(r["letter"] for r in answer["letters"])
    sureness = "  ".join(f"{r['letter']} {r['confidence']:.0%}" for r in answer["letters"])
    print(f"letters: {reading}   ({sureness})")
    for rank, c in enumerate(answer["candidates"], 1):
        why = ", ".join(filter(None, [c["source"], c["edit"]]))
        print(f"  {rank}. {c['text']:<16} {c['score']:.3f}   ({why})")


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("spell", help="spell a word: one image per signed letter, in order -> the best word, "
                       "the per-letter reading and alternatives (English lexicon, J/Z words typed instead)")
    s.add_argument("images", nargs="+", metavar="IMAGE", help="png/jpg images, one per letter, in order")
    s.add_argument("--model", help="artifact or TF.js model dir, runs:/ or models:/ reference (default: the shipped default)")
    s.add_argument("--words", help="file of your own words (names), one a line; they join the lexicon")
    s.add_argument("--top", type=int, default=5, help="alternatives to show (default 5)")
    s.add_argument("--json", action="store_true", help="print the answer as JSON (the /v1/spell body)")
    s.set_defaults(func=_spell)

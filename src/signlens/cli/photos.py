"""Photo commands: `signlens finetune` (a personal copy of a model from a user's photos) and
`signlens add-hand-head` (give an artifact the hand-landmark head that reads real photos)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from signlens import spec
from signlens.cli import console, refs
from signlens.errors import SignlensError, did_you_mean


def _finetune(args: argparse.Namespace) -> None:
    refs.check_model(args.base)
    if not Path(args.images).is_dir():
        raise SignlensError(f"{args.images}: no such folder (expected <DIR>/<LETTER>/*.png|jpg|jpeg)")
    console.import_tensorflow()
    from signlens.data import load
    from signlens.training.finetune import finetune

    base = refs.resolve(args.base, tracking_uri=args.tracking_uri)
    user = load(args.images, skip_invalid=True)
    for err in user.skipped:
        print(f"skipped: {err}")
    result = finetune(base, user, Path(args.out), epochs=args.epochs, learning_rate=args.learning_rate,
                      n_anchor=args.anchor, seed=args.seed,
                      progress=lambda done, total: print(f"epoch {done}/{total}", flush=True))
    m = result.meta
    print(f"fine-tuned {m['base_name']} on {m['n_images']} photos ({len(m['per_letter'])} letters) "
          f"+ {m['n_anchor']} Sign-MNIST images, {m['epochs']} epochs, {m['seconds']:.0f}s -> {result.artifact_dir}")
    if args.no_track:
        return
    from signlens.tracking import runs as tracking

    try:
        run_id, mv = tracking.log_finetune(result.artifact_dir, m, result.history,
                                           register_as=args.register_as or tracking.PERSONAL_MODEL,
                                           uri=args.tracking_uri)
    except tracking.TrackingError as exc:
        print(f"signlens: warning: {exc}; the model is saved in {result.artifact_dir} but not registered",
              file=sys.stderr)
        return
    print(f"logged as run {run_id}; registered {mv.name} version {mv.version}: load it as models:/{mv.name}/{mv.version}")


def _add_hand_head(args: argparse.Namespace) -> None:
    path = Path(args.artifact)
    if not (path / spec.META_FILE).is_file():
        hint = did_you_mean(str(path), refs.shipped_models())
        raise SignlensError(f"{path}: not a signlens artifact (no {spec.META_FILE}){hint}")
    console.import_tensorflow()
    from signlens.data import load
    from signlens.models import artifact
    from signlens.training import head as hand_head

    # A clear error for a broken artifact, before any work; the head it may have is not loaded:
    # it is being replaced, and may be one made for older landmark features.
    meta = artifact.read_meta(path)
    name, old_version = meta.get("name", path.name), meta.get("version", "unversioned")
    config = dict(meta.get("config", {}))
    seed = args.seed if args.seed is not None else int(config.get("seed", 0))
    data = load(args.data, "train")
    # Unset options follow the artifact's config, so `add-hand-head` rebuilds what it describes.
    recipe = {"hand_head_per_letter": args.per_letter, "hand_head_synthetic": args.synthetic,
              "hand_head_augment": args.augment, "hand_head_photos": args.photos}
    defaults = {"hand_head_per_letter": hand_head.PER_LETTER, "hand_head_synthetic": 0,
                "hand_head_augment": 0, "hand_head_photos": None}
    recipe = {k: v if v is not None else config.get(k, defaults[k]) for k, v in recipe.items()}
    photos = load(recipe["hand_head_photos"]) if recipe["hand_head_photos"] else None
    head = hand_head.train(data, seed, recipe["hand_head_per_letter"], synthetic=recipe["hand_head_synthetic"],
                           copies=recipe["hand_head_augment"], photos=photos)
    version = artifact.save_hand_head(path, head.model, head.record)
    # The artifact's config now says what `signlens train` would have to do to rebuild it.
    artifact.update_meta(path, config={**config, "hand_head": True, **recipe})
    r = head.record
    print(f"{name}: hand-landmark head trained on {r['n_images']} {Path(data.source).name} images, "
          f"{r['n_synthetic']} synthetic hands, {len(photos) if photos else 0} photos, {r['augmented_copies']} "
          f"3-D augmented copies (train accuracy {r['train_accuracy']:.2%}, {r['seconds']:.0f}s); "
          f"version {old_version} -> {version}")


def register(sub: argparse._SubParsersAction) -> None:
    h = sub.add_parser("add-hand-head", help="train the hand-landmark head that reads real photos and add it "
                       "to an artifact (a new version)")
    h.add_argument("artifact", help="artifact directory to extend")
    h.add_argument("--data", help="training data (default: the vendored Sign-MNIST train split)")
    h.add_argument("--per-letter", type=int, help="training images per letter to take landmarks of "
                   "(default: the training config's hand_head_per_letter)")
    h.add_argument("--synthetic", type=int, help="synthetic hands per handshape variant (default: the config's "
                   "hand_head_synthetic)")
    h.add_argument("--augment", type=int, help="3-D augmented copies of the landmarks (default: the config's "
                   "hand_head_augment)")
    h.add_argument("--photos", help="real photos <DIR>/<LETTER>/*.jpg the head also learns from (default: the "
                   "config's hand_head_photos)")
    h.add_argument("--seed", type=int, help="default: the seed the artifact was trained with")
    h.set_defaults(func=_add_hand_head)

    f = sub.add_parser("finetune", help="fine-tune a copy of a model on your own photos (<DIR>/<LETTER>/*.jpg)")
    f.add_argument("base", help="artifact dir, runs:/ or models:/ reference of the model to start from")
    f.add_argument("--images", required=True, help="image folder laid out <DIR>/<LETTER>/*.png|jpg|jpeg")
    f.add_argument("--out", required=True, help="artifact directory to write (the base is never changed)")
    f.add_argument("--epochs", type=int, default=8)
    f.add_argument("--learning-rate", type=float, default=3e-4)
    f.add_argument("--anchor", type=int, default=1000, help="Sign-MNIST images mixed in against forgetting")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--register-as", help="registered model (MLflow) the result becomes a new version of "
                   "(default: signlens-personal)")
    f.add_argument("--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI or sqlite under $SIGNLENS_HOME)")
    f.add_argument("--no-track", action="store_true", help="do not log or register the result in MLflow")
    f.set_defaults(func=_finetune)

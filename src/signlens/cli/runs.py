"""`signlens runs ...`, `signlens reproduce`, `signlens models ...`: the MLflow side of the CLI.

Output is plain tables for people; the store is the same one `mlflow ui --backend-store-uri` reads.
"""

from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path
from typing import Any, Callable

from signlens.paths import state_dir

RUN_COLUMNS = ("run_id", "name", "status", "model", "val_acc", "epochs", "started")


def _uri_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI or sqlite under $SIGNLENS_HOME)")


def _store_errors(func: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
    """An unreachable or broken store is a user-facing condition: one message, no traceback."""
    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> None:
        from mlflow.exceptions import MlflowException

        from signlens.tracking import store as tracking

        try:
            func(args)
        except MlflowException as exc:
            uri = tracking.tracking_uri(getattr(args, "tracking_uri", None))
            raise tracking.TrackingError(f"tracking store {uri}: {str(exc)[:300]}") from None
    return wrapper


def _table(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    cells = [tuple(str(c) for c in header)] + [tuple("" if c is None else str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


def _run_row(run: Any) -> tuple[Any, ...]:
    m = run.data.metrics
    acc = m.get("final_val_accuracy")
    return (run.info.run_id, run.info.run_name, run.info.status, run.data.params.get("model"),
            None if acc is None else f"{acc:.4f}", None if "epochs_run" not in m else int(m["epochs_run"]),
            time.strftime("%Y-%m-%d %H:%M", time.localtime(run.info.start_time / 1000)))


def _search(args: argparse.Namespace, filter_string: str) -> None:
    from signlens.tracking import store as tracking

    c = tracking.client(args.tracking_uri)
    if args.experiment:
        exp = c.get_experiment_by_name(args.experiment)
        if exp is None:
            raise tracking.TrackingError(f"no experiment {args.experiment!r} in {c.tracking_uri}")
        exp_ids = [exp.experiment_id]
    else:
        exp_ids = [e.experiment_id for e in c.search_experiments()]
    try:
        runs = c.search_runs(exp_ids, filter_string, max_results=args.limit, order_by=["attributes.start_time DESC"])
    except Exception as exc:  # MLflow reports a bad filter as a generic exception with a good message
        raise tracking.TrackingError(f"search failed: {str(exc)[:300]}") from None
    print(_table(RUN_COLUMNS, [_run_row(r) for r in runs]) if runs else "no runs")


def _runs_list(args: argparse.Namespace) -> None:
    _search(args, "")


def _runs_search(args: argparse.Namespace) -> None:
    _search(args, args.filter)


def _runs_show(args: argparse.Namespace) -> None:
    from signlens.tracking import store as tracking

    c = tracking.client(args.tracking_uri)
    run = tracking.find_run(c, args.run)
    info = run.info
    print(f"run {info.run_id}  {info.run_name}  {info.status}  experiment {c.get_experiment(info.experiment_id).name}")
    print(f"artifacts: {info.artifact_uri}")
    for title, values in (("params", run.data.params), ("metrics (last value)", run.data.metrics),
                          ("tags", {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")
                                    or k == "mlflow.source.git.commit"})):
        print(f"\n{title}:")
        for k in sorted(values):
            v = values[k]
            print(f"  {k:32s} {v:.6g}" if isinstance(v, float) else f"  {k:32s} {v}")
    print("\nartifacts:", " ".join(a.path + ("/" if a.is_dir else "") for a in c.list_artifacts(info.run_id)))


def _runs_compare(args: argparse.Namespace) -> None:
    from signlens.evaluation import plots
    from signlens.tracking import store as tracking

    c = tracking.client(args.tracking_uri)
    runs = [tracking.find_run(c, ref) for ref in args.runs]
    labels = [r.info.run_name or r.info.run_id[:8] for r in runs]
    keys = sorted({k for r in runs for k in r.data.params})
    differing = [k for k in keys if len({r.data.params.get(k) for r in runs}) > 1]
    metrics = [k for k in (*tracking.FINAL_METRICS, "val_accuracy", "accuracy", "val_loss", "loss")
               if any(k in r.data.metrics for r in runs)]
    rows = [(f"params.{k}", *(r.data.params.get(k) for r in runs)) for k in differing]
    rows += [(f"metrics.{k}", *(f"{r.data.metrics[k]:.4f}" if k in r.data.metrics else None for r in runs))
             for k in metrics]
    print(_table(("", *labels), rows))
    if not differing:
        print("(all params equal)")
    out = plots.learning_curves({label: tracking.history(c, r.info.run_id) for label, r in zip(labels, runs)},
                                Path(args.out))
    print(f"\nwrote {out}")


def _runs_sync(args: argparse.Namespace) -> None:
    from signlens.tracking import offline
    from signlens.tracking import store as tracking

    queued = offline.pending()
    if not queued:
        print(f"nothing to sync ({state_dir() / 'pending'} is empty)")
        return
    for path, run_id in offline.sync(args.tracking_uri):
        print(f"logged {path.name} as run {run_id}")
    print(f"synced {len(queued)} run(s) to {tracking.tracking_uri(args.tracking_uri)}")


def _reproduce(args: argparse.Namespace) -> None:
    from signlens.tracking.reproduce import reproduce

    out = reproduce(args.run, Path(args.out) if args.out else None, args.tracking_uri)
    rows = [(k, f"{v['original']:.6f}", f"{v['reproduced']:.6f}", f"{v['diff']:+.2e}")
            for k, v in out["metrics"].items()]
    print(_table(("metric", "original", "reproduced", "diff"), rows))
    where = f"run {out['run_id']}" if out["run_id"] else f"queued in {out['queued']}"
    print(f"\nreproduced {out['original']} -> {where}, artifact {out['artifact_dir']}")


def _models_register(args: argparse.Namespace) -> None:
    from signlens.tracking import registry
    from signlens.tracking import store as tracking

    args.name = args.name or tracking.REGISTERED_MODEL
    c = tracking.client(args.tracking_uri)
    run = tracking.find_run(c, args.run)
    mv = registry.register_version(c, run.info.run_id, args.name)
    print(f"registered {args.name} version {mv.version} from run {run.info.run_id}")
    print(f"load it as models:/{args.name}/{mv.version}")


def _models_promote(args: argparse.Namespace) -> None:
    from signlens.tracking import registry
    from signlens.tracking import store as tracking

    args.name = args.name or tracking.REGISTERED_MODEL
    mv = registry.promote(tracking.client(args.tracking_uri), args.name, args.version, args.alias)
    print(f"{args.name}@{args.alias} -> version {mv.version} (run {mv.run_id})")
    print(f"load it as models:/{args.name}@{args.alias}")


def _models_list(args: argparse.Namespace) -> None:
    from signlens.tracking import store as tracking

    args.name = args.name or tracking.REGISTERED_MODEL
    c = tracking.client(args.tracking_uri)
    versions = sorted(c.search_model_versions(f"name = '{args.name}'"), key=lambda v: int(v.version))
    if not versions:
        print(f"no versions of {args.name} (register one with `signlens models register RUN`)")
        return
    aliases: dict[str, list[str]] = {}  # search results leave aliases empty; the model has them
    for alias, version in c.get_registered_model(args.name).aliases.items():
        aliases.setdefault(str(version), []).append(alias)
    rows = []
    for v in versions:
        acc = c.get_run(v.run_id).data.metrics.get("final_val_accuracy") if v.run_id else None
        rows.append((v.version, ",".join(sorted(aliases.get(str(v.version), []))) or "-", v.run_id,
                     None if acc is None else f"{acc:.4f}",
                     time.strftime("%Y-%m-%d %H:%M", time.localtime(v.creation_timestamp / 1000))))
    print(_table(("version", "aliases", "run_id", "val_acc", "created"), rows))


def register(sub: argparse._SubParsersAction) -> None:
    runs = sub.add_parser("runs", help="tracked training runs (MLflow)").add_subparsers(dest="runs_command", required=True)
    for name, func, help_ in (("list", _runs_list, "recent runs, newest first"),
                              ("search", _runs_search, "runs matching an MLflow filter")):
        p = runs.add_parser(name, help=help_)
        if name == "search":
            p.add_argument("filter", help="e.g. \"metrics.final_val_accuracy > 0.99 and params.model = 'cnn'\"")
        p.add_argument("--experiment", help="only this experiment (default: all)")
        p.add_argument("--limit", type=int, default=20)
        _uri_arg(p)
        p.set_defaults(func=_store_errors(func))
    p = runs.add_parser("show", help="params, metrics, tags and artifacts of one run")
    p.add_argument("run", help="run id, unique id prefix (6+ characters) or run name")
    _uri_arg(p)
    p.set_defaults(func=_store_errors(_runs_show))
    p = runs.add_parser("compare", help="table of differing params and metrics, overlaid learning curves")
    p.add_argument("runs", nargs="+")
    p.add_argument("--out", default="runs-compare.png", help="learning-curve PNG to write")
    _uri_arg(p)
    p.set_defaults(func=_store_errors(_runs_compare))
    p = runs.add_parser("sync", help="log runs queued while the store was unreachable")
    _uri_arg(p)
    p.set_defaults(func=_store_errors(_runs_sync))

    p = sub.add_parser("reproduce", help="retrain a run from its logged config and compare its metrics")
    p.add_argument("run")
    p.add_argument("--out", help="artifact directory (default: $SIGNLENS_HOME/reproduce/<run id>)")
    _uri_arg(p)
    p.set_defaults(func=_store_errors(_reproduce))

    models = sub.add_parser("models", help="registered model versions and aliases (MLflow)").add_subparsers(
        dest="models_command", required=True)
    p = models.add_parser("register", help="a new version of the registered model from a run")
    p.add_argument("run")
    p = models.add_parser("promote", help="point an alias (champion, challenger) at a version")
    p.add_argument("version")
    p.add_argument("--alias", required=True)
    p = models.add_parser("list", help="versions with aliases and validation accuracy")
    for name, func in (("register", _models_register), ("promote", _models_promote), ("list", _models_list)):
        p = models.choices[name]
        p.add_argument("--name", help="registered model name (default: signlens-asl)")
        _uri_arg(p)
        p.set_defaults(func=_store_errors(func))

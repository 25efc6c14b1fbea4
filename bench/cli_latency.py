"""How fast the `signlens` command answers: help, argument errors and light commands (issue 19, item 7).

    .venv/bin/python bench/cli_latency.py [--repeats 5] [--out bench/results/cli_latency.txt]

Each command runs `--repeats` times as a fresh `python -m signlens.cli.main` process after one
untimed warm-up, and the table gives the median wall clock and the median CPU time (user + system
of the process): on a shared host the wall clock grows with the others' load and the CPU time
barely does, so CPU time is what an idle machine's wall clock would be, near enough. Bytecode is
cached in a private PYTHONPYCACHEPREFIX filled by the warm-up (as after a pip install, which
compiles it), whatever PYTHONDONTWRITEBYTECODE says. The baselines run
in the same session: `python -c pass` (the interpreter's own start) and `python -c "import tensorflow"`
(what every command paid before), plus `import mlflow` (the floor for `runs list`, which must ask
MLflow). `worker submit` queues to a redis-server started here on a free loopback port; `runs list`
reads a SQLite store created (and migrated) by the warm-up.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "signlens.cli.main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_redis(work: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(work)], stdout=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def _cases(work: Path, redis_url: str) -> list[tuple[str, list[str], float | None]]:
    """(label, argv, target seconds or None for a baseline)."""
    png = work / "a.png"
    png.write_bytes((ROOT / "models" / "README.md").read_bytes()[:64])  # submit only queues bytes
    store = f"sqlite:///{work / 'mlflow.db'}"
    py = [sys.executable, "-c"]
    return [
        ("python -c pass (baseline)", [*py, "pass"], None),
        ("python -c 'import tensorflow' (baseline)", [*py, "import tensorflow"], None),
        ("python -c 'import mlflow' (baseline)", [*py, "import mlflow"], None),
        ("signlens --help", [*CLI, "--help"], 1.0),
        ("signlens bogus (unknown command)", [*CLI, "bogus"], 1.0),
        ("signlens train model=resnet", [*CLI, "train", "model=resnet", "--no-track"], 1.0),
        ("signlens train epochs=zero", [*CLI, "train", "epochs=zero"], 1.0),
        ("signlens predict models/seed-cn a.png", [*CLI, "predict", "models/seed-cn", str(png)], 1.0),
        ("signlens evaluate no/such/model", [*CLI, "evaluate", "no/such/model"], 1.0),
        ("signlens serve x=models/sed-cnn", [*CLI, "serve", "x=models/sed-cnn"], 1.0),
        ("signlens worker submit a.png", [*CLI, "worker", "--redis", redis_url, "submit", str(png)], 3.0),
        ("signlens runs list", [*CLI, "runs", "list", "--tracking-uri", store], 3.0),
        ("signlens data verify", [*CLI, "data", "verify"], 3.0),
    ]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run."""
    cpu, start = _cpu_seconds(), time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    return time.perf_counter() - start, _cpu_seconds() - cpu


def _table(rows: list[tuple[str, list[tuple[float, float]], float | None]]) -> str:
    lines = [f"{'command':44s} {'wall s':>7s} {'CPU s':>6s} {'target':>7s}  {'ok (wall / CPU)':s}"]
    for label, runs, target in rows:
        wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
        ok = "" if target is None else f"{'yes' if wall <= target else 'no'} / {'yes' if cpu <= target else 'no'}"
        goal = "" if target is None else f"<= {target:g}"
        lines.append(f"{label:44s} {wall:7.2f} {cpu:6.2f} {goal:>7s}  {ok}")
    return "\n".join(lines)


def _cpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, StopIteration):
        model = platform.processor()
    return f"{model}, {os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cli_latency.txt")
    args = ap.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("needs redis-server on PATH (Debian: apt-get install redis-server)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "SIGNLENS_HOME": str(work / "home"), "PYTHONPATH": str(ROOT / "src"),
               "PYTHONPYCACHEPREFIX": str(work / "pycache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        redis, url = _start_redis(work)
        try:
            cases = _cases(work, url)
            for _, argv, _ in cases:  # warm-up: bytecode caches, the store's migrations
                _time(argv, env)
            times: dict[str, list[tuple[float, float]]] = {label: [] for label, _, _ in cases}
            for _ in range(args.repeats):  # interleaved, so a busy spell of the host hits every command
                for label, argv, _ in cases:
                    times[label].append(_time(argv, env))
        finally:
            redis.terminate()
            redis.wait()
    rows = [(label, times[label], target) for label, _, target in cases]
    report = (f"signlens CLI latency, median of {args.repeats} (fresh process each; CPU = user + system)\n"
              f"CPU: {_cpu()} at the end\n\n{_table(rows)}\n")
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)


if __name__ == "__main__":
    main()

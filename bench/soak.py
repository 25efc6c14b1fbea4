"""Soak benchmark: `signlens serve` under minutes of steady mixed traffic (issue 18).

Starts the server on the shipped default model, on 127.0.0.1, in a subprocess with a temporary
SIGNLENS_HOME and an admin token, then drives a fixed schedule of requests for --minutes: 28×28
grids (JSON and PNG), photos (the examples drawn into a camera-sized frame, and synthetic
photo-like JPEGs), /v1/predict/batch, feedback on earlier answers, /healthz, a hot swap of the
model (POST /v1/admin/reload) every minute, and hostile requests (oversize, malformed, deeply
nested JSON, bad content types) that must get a 4xx. Every loop is bounded by the deadline and
the server is stopped (SIGINT, so the prediction log flushes) at the end.

Prints per kind: requests, errors, p50/p99 latency; the server's RSS at ready, after warm-up and at
the end; and the prediction-log rows written vs predictions answered (must be equal).
Run: .venv/bin/python bench/soak.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

import aiohttp
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.png"))
#: Seconds between requests of each kind: about 12 requests/s, ~0.3 CPU-s/s of model work.
SCHEDULE = {"grid_json": 0.25, "grid_png": 0.5, "photo_png": 1.0, "photo_jpeg": 1.0, "batch": 2.0,
            "feedback": 1.0, "healthz": 1.0, "hostile": 2.0}
RELOAD_EVERY_S, FIRST_RELOAD_S = 60.0, 30.0
WARMUP_S = 10.0


# --- request bodies -------------------------------------------------------------------------------

def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def _jpeg(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def example_photo(grid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An example hand enlarged into a 320×240 RGB frame over a noisy gradient: photo-sized work."""
    frame = np.linspace(40, 90, 320)[None, :, None] + rng.normal(0, 6, (240, 320, 3))
    hand = np.asarray(Image.fromarray(grid).resize((180, 180), Image.BICUBIC), dtype=float)
    frame[30:210, 70:250] = hand[:, :, None]
    return np.clip(frame, 0, 255).astype(np.uint8)


def synthetic_photo(rng: np.random.Generator) -> np.ndarray:
    """A photo-like 480×360 frame: textured wall, a skin-toned palm and fingers, sensor noise."""
    yy, xx = np.mgrid[0:360, 0:480]
    wall = np.stack([120 + 30 * np.sin(xx / 37.0), 110 + 20 * np.cos(yy / 23.0), 100 + 0 * xx], -1).astype(float)
    cx, cy = rng.integers(180, 300), rng.integers(170, 220)
    palm = ((xx - cx) / 60.0) ** 2 + ((yy - cy) / 75.0) ** 2 < 1
    fingers = np.zeros_like(palm)
    for i in range(int(rng.integers(1, 5))):
        x0 = cx - 50 + 25 * i
        fingers |= (xx > x0) & (xx < x0 + 18) & (yy > cy - 160) & (yy < cy - 40)
    wall[palm | fingers] = (205, 150, 120)
    return np.clip(wall + rng.normal(0, 8, wall.shape), 0, 255).astype(np.uint8)


def _nested(depth: int) -> bytes:
    return b'{"pixels": ' + b"[" * depth + b"]" * depth + b"}"


def hostile_requests(token: str) -> list[tuple[str, str, str, dict[str, str], bytes]]:
    """(name, method, path, headers, body): each must be answered 4xx, never 5xx or a stall."""
    js = {"content-type": "application/json"}
    png = _png(np.zeros((28, 28), np.uint8))
    return [
        ("oversize_body", "POST", "/v1/predict", {"content-type": "image/png"}, b"\x89PNG" + b"\0" * (9 << 20)),
        ("malformed_json", "POST", "/v1/predict", js, b'{"pixels": [1, 2,'),
        ("nested_json_predict", "POST", "/v1/predict", js, _nested(3000)),
        ("nested_json_batch", "POST", "/v1/predict/batch", js, b'{"items": [' + _nested(3000) + b"]}"),
        ("text_plain", "POST", "/v1/predict", {"content-type": "text/plain"}, b"hello"),
        ("no_content_type", "POST", "/v1/predict/batch", {}, b"\x00\x01"),
        ("wrong_pixel_count", "POST", "/v1/predict", js, json.dumps({"pixels": [0] * 783}).encode()),
        ("bad_base64", "POST", "/v1/predict", js, b'{"image": "not base64!!"}'),
        ("truncated_png", "POST", "/v1/predict", {"content-type": "image/png"}, png[: len(png) // 2]),
        ("bad_multipart", "POST", "/v1/predict", {"content-type": "multipart/form-data; boundary=x"}, b"--x\r\nju"),
        ("unknown_model", "POST", "/v1/predict?model=nope", js, json.dumps({"pixels": [0] * 784}).encode()),
        ("feedback_bad_letter", "POST", "/v1/feedback", js,
         json.dumps({"prediction_id": "0" * 32, "true_letter": "Z"}).encode()),
        ("reload_no_token", "POST", "/v1/admin/reload", js, b'{"model": "default", "ref": "default"}'),
        ("reload_outside_store", "POST", "/v1/admin/reload", {**js, "authorization": f"Bearer {token}"},
         b'{"model": "default", "ref": "../../../etc"}'),
    ]


# --- the load ------------------------------------------------------------------------------------

@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    failures: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    predictions_answered: int = 0
    feedback_answered: int = 0
    late: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Load:
    def __init__(self, session: aiohttp.ClientSession, base: str, token: str, stats: Stats):
        self.session, self.base, self.token, self.stats = session, base, token, stats
        self.rng = np.random.default_rng(0)
        self.grids = [(p.stem, np.asarray(Image.open(p).convert("L"))) for p in EXAMPLES]
        self.photos = [_png(example_photo(g, self.rng)) for _, g in self.grids]
        self.synthetic = [_jpeg(synthetic_photo(self.rng)) for _ in range(8)]
        self.answered_ids: list[tuple[str, str]] = []  # (prediction id, true letter) awaiting feedback
        self.hostile = hostile_requests(token)
        self.n = defaultdict(int)

    def _next(self, kind: str, items: list):
        self.n[kind] += 1
        return items[self.n[kind] % len(items)]

    async def send(self, kind: str, method: str, path: str, *, expect: Callable[[int], bool],
                   data: bytes | None = None, headers: dict[str, str] | None = None) -> dict | None:
        start = time.perf_counter()
        try:
            async with self.session.request(method, self.base + path, data=data, headers=headers) as resp:
                body = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.stats.statuses[kind][0] += 1
            self.stats.failures[kind].append(f"{path}: {type(exc).__name__}: {exc}")
            return None
        self.stats.latencies[kind].append(time.perf_counter() - start)
        self.stats.statuses[kind][status] += 1
        if not expect(status):
            self.stats.failures[kind].append(f"{path}: HTTP {status} {body[:200]!r}")
            return None
        try:
            return json.loads(body)
        except ValueError:
            return {}

    async def _predict(self, kind: str, body: bytes, content_type: str, letter: str | None) -> None:
        answer = await self.send(kind, "POST", "/v1/predict", data=body, headers={"content-type": content_type},
                                 expect=lambda s: s == 200)
        if answer and "id" in answer:
            self.stats.predictions_answered += 1
            if letter and len(self.answered_ids) < 1000:
                self.answered_ids.append((answer["id"], letter))

    async def grid_json(self) -> None:
        letter, grid = self._next("grid_json", self.grids)
        await self._predict("grid_json", json.dumps({"pixels": grid.tolist()}).encode(), "application/json", letter)

    async def grid_png(self) -> None:
        letter, grid = self._next("grid_png", self.grids)
        await self._predict("grid_png", _png(grid), "image/png", letter)

    async def photo_png(self) -> None:
        await self._predict("photo_png", self._next("photo_png", self.photos), "image/png", None)

    async def photo_jpeg(self) -> None:
        await self._predict("photo_jpeg", self._next("photo_jpeg", self.synthetic), "image/jpeg", None)

    async def batch(self) -> None:
        items = [{"pixels": self._next("batch", self.grids)[1].tolist()} for _ in range(7)]
        items.append({"image": base64.b64encode(self._next("batch", self.photos)).decode()})
        answer = await self.send("batch", "POST", "/v1/predict/batch", data=json.dumps({"items": items}).encode(),
                                 headers={"content-type": "application/json"}, expect=lambda s: s == 200)
        if answer:
            self.stats.predictions_answered += len(answer.get("predictions", []))

    async def feedback(self) -> None:
        if not self.answered_ids:
            return
        pid, letter = self.answered_ids.pop(0)
        answer = await self.send("feedback", "POST", "/v1/feedback", expect=lambda s: s == 200,
                                 data=json.dumps({"prediction_id": pid, "true_letter": letter}).encode(),
                                 headers={"content-type": "application/json"})
        self.stats.feedback_answered += answer is not None

    async def healthz(self) -> None:
        await self.send("healthz", "GET", "/healthz", expect=lambda s: s == 200)

    async def reload(self) -> None:
        await self.send("hot_swap", "POST", "/v1/admin/reload", expect=lambda s: s == 200,
                        data=b'{"model": "default", "ref": "default"}',
                        headers={"content-type": "application/json", "authorization": f"Bearer {self.token}"})

    async def hostile_one(self) -> None:
        name, method, path, headers, body = self._next("hostile", self.hostile)
        await self.send(f"hostile:{name}", method, path, data=body, headers=headers,
                        expect=lambda s: 400 <= s < 500)


async def steady(kind: str, every: float, first_at: float, action: Callable[[], Awaitable[None]],
                 t0: float, deadline: float, stats: Stats) -> None:
    """Run `action` every `every` s from t0 + first_at until the deadline; a late tick is counted,
    not caught up (the rate stays steady instead of bursting)."""
    due = t0 + first_at
    while due < deadline:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        await action()
        due += every
        if time.monotonic() > due:
            stats.late[kind] += 1
            due = time.monotonic()


# --- the server ----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_ready(session: aiohttp.ClientSession, base: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before it was ready")
        try:
            async with session.get(base + "/readyz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    raise SystemExit(f"server not ready after {timeout:.0f} s")


def stop(proc: subprocess.Popen) -> str:
    """SIGINT, so the lifespan flushes the prediction log; SIGKILL only if it hangs."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)
        return f"stopped cleanly (exit {proc.returncode})"
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return "did NOT stop within 60 s of SIGINT: killed"


def log_counts(db: Path) -> tuple[int, int]:
    if not db.exists():
        return 0, 0
    with sqlite3.connect(db) as conn:
        return (conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0],
                conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])


# --- report --------------------------------------------------------------------------------------

def _pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q) * 1000:8.1f}" if values else "       -"


def report(stats: Stats, seconds: float, rss: dict[str, float], rows: int, feedback_rows: int, stopped: str) -> bool:
    lines = [f"{'kind':28s} {'requests':>8s} {'errors':>6s} {'p50 ms':>8s} {'p99 ms':>8s}  statuses"]
    ok = True
    for kind in sorted(stats.statuses):
        count = sum(stats.statuses[kind].values())
        errors = len(stats.failures[kind])
        ok &= errors == 0
        codes = " ".join(f"{c or 'conn-err'}×{n}" for c, n in sorted(stats.statuses[kind].items()))
        lines.append(f"{kind:28s} {count:8d} {errors:6d} {_pct(stats.latencies[kind], 50)} "
                     f"{_pct(stats.latencies[kind], 99)}  {codes}")
    total = sum(sum(s.values()) for s in stats.statuses.values())
    growth = (rss["end"] - rss["warm"]) / rss["warm"] * 100
    lines += ["", f"{total} requests in {seconds:.0f} s ({total / seconds:.1f}/s); late ticks (schedule not kept): "
              f"{dict(stats.late) or 'none'}",
              f"server RSS: {rss['ready']:.0f} MB at ready, {rss['warm']:.0f} MB after {WARMUP_S:.0f} s warm-up, "
              f"{rss['end']:.0f} MB at the end (peak {rss['peak']:.0f} MB): growth {growth:+.1f}% (target ≤ 10%)",
              f"prediction log: {rows} rows written vs {stats.predictions_answered} predictions answered; "
              f"feedback rows {feedback_rows} vs {stats.feedback_answered} answered",
              f"server {stopped}"]
    checks = {"no errors (valid 2xx, hostile 4xx)": ok, "RSS growth ≤ 10%": growth <= 10,
              "log rows == predictions answered": rows == stats.predictions_answered,
              "feedback rows == feedback answered": feedback_rows == stats.feedback_answered,
              "clean stop": "cleanly" in stopped}
    lines += [f"{'PASS' if passed else 'FAIL'}: {name}" for name, passed in checks.items()]
    for kind, msgs in stats.failures.items():
        lines += [f"  {kind}: {m}" for m in msgs[:3]] + ([f"  {kind}: … {len(msgs) - 3} more"] if len(msgs) > 3 else [])
    print("\n".join(lines), flush=True)
    return all(checks.values())


async def soak(minutes: float, keep_home: bool) -> bool:
    home = Path(tempfile.mkdtemp(prefix="signlens-soak-"))
    token = secrets.token_hex(16)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "SIGNLENS_HOME": str(home), "SIGNLENS_ADMIN_TOKEN": token, "TF_CPP_MIN_LOG_LEVEL": "3",
           "PYTHONPATH": str(ROOT / "src")}
    server_log = open(home / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "signlens.cli.main", "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, cwd=ROOT, stdout=server_log, stderr=subprocess.STDOUT)
    stats, rss = Stats(), {}
    timeout = aiohttp.ClientTimeout(total=60)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            await wait_ready(session, base, proc, timeout=300)
            rss["ready"] = rss["peak"] = rss_mb(proc.pid)
            load = Load(session, base, token, stats)
            actions = {"grid_json": load.grid_json, "grid_png": load.grid_png, "photo_png": load.photo_png,
                       "photo_jpeg": load.photo_jpeg, "batch": load.batch, "feedback": load.feedback,
                       "healthz": load.healthz, "hostile": load.hostile_one}
            t0 = time.monotonic()
            deadline = t0 + minutes * 60

            async def sample_rss() -> None:
                while time.monotonic() < deadline:
                    await asyncio.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
                    if time.monotonic() >= t0 + WARMUP_S and "warm" not in rss:
                        rss["warm"] = rss_mb(proc.pid)
                    rss["peak"] = max(rss["peak"], rss_mb(proc.pid))

            tasks = [steady(k, every, 0.0, actions[k], t0, deadline, stats) for k, every in SCHEDULE.items()]
            tasks.append(steady("hot_swap", RELOAD_EVERY_S, FIRST_RELOAD_S, load.reload, t0, deadline, stats))
            await asyncio.gather(*tasks, sample_rss())
            seconds = time.monotonic() - t0
            rss["end"] = rss_mb(proc.pid)
            rss.setdefault("warm", rss["ready"])
    finally:
        stopped = stop(proc) if proc.poll() is None else f"had exited with {proc.returncode}"
        server_log.close()
    rows, feedback_rows = log_counts(home / "predictions.db")
    passed = report(stats, seconds, rss, rows, feedback_rows, stopped)
    if keep_home:
        print(f"(server log and prediction log kept in {home})")
    else:
        shutil.rmtree(home, ignore_errors=True)
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to drive traffic (default 10)")
    parser.add_argument("--keep-home", action="store_true",
                        help="keep the temporary SIGNLENS_HOME (server log, prediction log) for inspection")
    args = parser.parse_args()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    print(f"soak: {args.minutes:g} min of mixed traffic against `signlens serve` (models/default); "
          f"CPU: {cpu}, {os.cpu_count()} cores, load average at start {os.getloadavg()[0]:.1f}", flush=True)
    sys.exit(0 if asyncio.run(soak(args.minutes, args.keep_home)) else 1)


if __name__ == "__main__":
    main()

"""Hostile request bodies vs a running server: does /healthz stay fast, and how much memory do they cost?

    .venv/bin/python bench/hostile_bodies.py [--src OLD_CHECKOUT/src ...]     # ~1 min per source tree

Serves the shipped default model (`signlens serve`, its own process) from each source tree given
(default: this checkout's), and for each scenario sends four hostile requests at once while
probing /healthz every 20 ms. Baseline: the same probes with nothing else running. Prints
/healthz p50/p99/max, the hostile requests' statuses and wall time, and the server's RSS before
and at its peak (VmHWM is reset per scenario by restarting the server).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
JSON = {"content-type": "application/json"}
PNG = {"content-type": "image/png"}


def scenarios() -> dict[str, tuple[str, bytes, dict[str, str]] | None]:
    return {
        "idle (baseline)": None,
        "4 × 7.9 MB JSON of numbers": ("/v1/predict", b'{"pixels": [' + b"0," * 3_950_000 + b"0]}", JSON),
        "4 × JSON nested 3,000 deep": ("/v1/predict", b'{"pixels": ' + b"[" * 3000 + b"]" * 3000 + b"}", JSON),
        "4 × 3840×2160 PNG": ("/v1/predict", _photo(3840, 2160), PNG),
        "4 × 4000×4000 PNG": ("/v1/predict", _photo(4000, 4000), PNG),
    }


def _photo(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((height, width, 3), 70, np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _start(src: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(src), "TF_CPP_MIN_LOG_LEVEL": "3"}
    cmd = [sys.executable, "-m", "signlens.cli.main", "serve", "--port", str(port), "--no-prediction-log"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"server from {src} did not start")


def _run(url: str, pid: int, request: tuple[str, bytes, dict[str, str]] | None) -> dict[str, object]:
    statuses: list[int] = []

    def one() -> None:
        assert request is not None
        path, body, headers = request
        try:
            statuses.append(httpx.post(url + path, content=body, headers=headers, timeout=120).status_code)
        except httpx.HTTPError as exc:
            statuses.append(-1)
            print(f"  {type(exc).__name__}: {exc}", flush=True)

    threads = [threading.Thread(target=one) for _ in range(4 if request else 0)]
    rss_before, latencies = _rss_mb(pid, "VmRSS"), []
    start = time.perf_counter()
    for t in threads:
        t.start()
    with httpx.Client(base_url=url, timeout=60) as probe:
        probe.get("/healthz")
        until = time.monotonic() + 2.0  # the baseline probes for 2 s
        while True:  # at least one probe, even when the hostile requests end at once
            t0 = time.perf_counter()
            probe.get("/healthz")
            latencies.append((time.perf_counter() - t0) * 1000)
            if not (any(t.is_alive() for t in threads) or (not threads and time.monotonic() < until)):
                break
            time.sleep(0.02)
    for t in threads:
        t.join()
    lat = np.array(latencies)
    return {"statuses": sorted(statuses), "seconds": time.perf_counter() - start, "p50": np.percentile(lat, 50),
            "p99": np.percentile(lat, 99), "max": lat.max(), "rss": rss_before, "peak": _rss_mb(pid, "VmHWM")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", nargs="*", type=Path, default=[ROOT / "src"], help="source trees to serve")
    args = parser.parse_args()
    cases = scenarios()
    print(f"{'source':<28} {'scenario':<30} {'statuses':<22} {'wall s':>7} {'healthz p50':>11} {'p99':>7} "
          f"{'max ms':>7} {'RSS MB':>7} {'peak MB':>8}")
    for src in args.src:
        for name, request in cases.items():
            port = 8700 + os.getpid() % 200
            proc = _start(src, port)
            try:
                r = _run(f"http://127.0.0.1:{port}", proc.pid, request)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            print(f"{str(src)[-28:]:<28} {name:<30} {str(r['statuses']):<22} {r['seconds']:>7.2f} {r['p50']:>11.1f} "
                  f"{r['p99']:>7.1f} {r['max']:>7.1f} {r['rss']:>7.0f} {r['peak']:>8.0f}", flush=True)


if __name__ == "__main__":
    main()

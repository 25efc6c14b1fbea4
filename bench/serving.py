"""Serving benchmark: signlens's server vs a naive FastAPI app calling `model.predict` per request.

Both run as separate uvicorn processes on loopback in the same run, with the same model and the
same request (a raw 28×28 Sign-MNIST PNG); an aiohttp load generator sends a bounded number of
requests at 1, 8 and 32 concurrent clients and prints throughput and p50/p99 latency, plus the
in-process single-image Predictor latency. Run: .venv/bin/python bench/serving.py [--model DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
from fastapi import FastAPI, Request

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = (1, 8, 32)


def naive_app(model_dir: str):  # the baseline: what a first FastAPI wrapper usually looks like
    from signlens import labels
    from signlens.models.resolve import resolve
    from signlens.vision.preprocess import preprocess, to_model_input

    model = resolve(model_dir).model
    app = FastAPI()

    @app.post("/v1/predict")
    async def predict(request: Request) -> dict:
        probs = model.predict(to_model_input(preprocess(await request.body()).pixels), verbose=0)[0]
        return {"letter": labels.LETTERS[int(probs.argmax())], "probabilities": probs.tolist()}

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(kind: str, model: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if kind == "signlens":
        cmd = [sys.executable, "-m", "signlens.cli.main", "serve", f"bench={model}", "--port", str(port)]
    else:
        cmd = [sys.executable, __file__, "--naive-server", "--model", model, "--port", str(port)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_ready(url: str, proc: subprocess.Popen) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as s:
        for _ in range(1800):  # TensorFlow import + model load is slow on a busy 2-core machine
            if proc.poll() is not None:
                raise RuntimeError(f"server for {url} exited with {proc.returncode}")
            try:
                async with s.post(f"{url}/v1/predict", data=PNG, headers={"content-type": "image/png"}) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def load(url: str, clients: int, n_requests: int) -> tuple[float, np.ndarray, int]:
    """n_requests POSTs spread over `clients` concurrent loops -> (req/s, latencies s, failures)."""
    import aiohttp

    latencies: list[float] = []
    failures = 0
    remaining = n_requests

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal remaining, failures
        while remaining > 0:
            remaining -= 1
            t0 = time.perf_counter()
            async with session.post(f"{url}/v1/predict", data=PNG, headers={"content-type": "image/png"}) as r:
                await r.read()
                failures += r.status != 200
            latencies.append(time.perf_counter() - t0)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        start_t = time.perf_counter()
        await asyncio.gather(*[client(session) for _ in range(clients)])
        elapsed = time.perf_counter() - start_t
    return len(latencies) / elapsed, np.asarray(latencies), failures


Row = tuple[float, float, float]  # req/s, p50 ms, p99 ms


def measure(cmd: list[str], env: dict[str, str], port: int, clients: int, n: int) -> Row:
    """Start a server (`cmd` listening on `port`), warm it up, load it; stop it. -> req/s, p50, p99."""
    proc = subprocess.Popen(cmd, env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(wait_ready(url, proc))
        asyncio.run(load(url, clients, 300))  # warm-up
        rps, lat, fails = asyncio.run(load(url, clients, n))
        if fails:
            raise RuntimeError(f"{fails} of {n} requests failed against {' '.join(cmd)}")
        p50, p99 = (float(v) for v in np.percentile(lat, [50, 99]) * 1000)
        return rps, p50, p99
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def alternate(trials: dict[str, Callable[[], Row]], rounds: int, clients: int, requests: int,
              column: str) -> None:
    """Run each trial once per round, in turn (a noisy host drifts over all alike); print means."""
    results: dict[str, list[Row]] = {name: [] for name in trials}
    for r in range(rounds):
        for name, trial in trials.items():
            row = trial()
            results[name].append(row)
            print(f"  round {r}: {name}: {row[0]:.0f} req/s, p50 {row[1]:.1f} ms, p99 {row[2]:.1f} ms", flush=True)
    print(f"\nsignlens server, {clients} clients, {requests} requests per round, {os.cpu_count()} CPUs")
    print(f"{column:20s} {'req/s':>7s} {'p50 ms':>7s} {'p99 ms':>7s}   (mean over {rounds} rounds)")
    for name, rows in results.items():
        m = np.mean(rows, axis=0)
        print(f"{name:20s} {m[0]:7.0f} {m[1]:7.1f} {m[2]:7.1f}")


def in_process_p50(model: str) -> tuple[float, float]:
    from signlens.inference.predictor import Predictor
    from signlens.vision.preprocess import preprocess

    predictor = Predictor.from_ref(model)
    grid = preprocess(PNG).pixels[None]
    for _ in range(20):
        predictor.predict([grid[0]])
    times_p, times_r = [], []
    for _ in range(300):
        t0 = time.perf_counter()
        predictor.probabilities(grid)
        times_p.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        predictor.predict([grid[0]])
        times_r.append(time.perf_counter() - t0)
    return float(np.median(times_p)) * 1000, float(np.median(times_r)) * 1000


def sample_png() -> bytes:
    from PIL import Image

    from signlens.data import load as load_data

    data = load_data(None, "test")
    buf = io.BytesIO()
    Image.fromarray(data.x[0]).save(buf, "PNG")
    return buf.getvalue()


PNG = b""


async def run(model: str, n_signlens: int, n_naive: int) -> None:
    rows = []
    for kind, n in (("naive", n_naive), ("signlens", n_signlens)):
        port = free_port()
        proc = start(kind, model, port)
        url = f"http://127.0.0.1:{port}"
        try:
            await wait_ready(url, proc)
            await load(url, 8, 50)  # warm-up
            for clients in CONCURRENCY:
                rps, lat, fails = await load(url, clients, n)
                rows.append((kind, clients, len(lat), rps, *(np.percentile(lat, [50, 99]) * 1000), fails))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"\nserving benchmark: model {model}, {os.cpu_count()} CPUs, loopback, raw 28×28 PNG per request")
    print(f"{'server':<9} {'clients':>7} {'requests':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'failed':>6}")
    for kind, clients, n, rps, p50, p99, fails in rows:
        print(f"{kind:<9} {clients:>7} {n:>8} {rps:>9.1f} {p50:>8.2f} {p99:>8.2f} {fails:>6}")
    naive = {c: r for k, c, _, r, *_ in rows if k == "naive"}
    for kind, clients, _, rps, *_ in rows:
        if kind == "signlens":
            print(f"speed-up at {clients:>2} clients: {rps / naive[clients]:.1f}×")
    p_probs, p_predict = in_process_p50(model)
    print(f"in-process single image p50: Predictor.probabilities {p_probs:.3f} ms, Predictor.predict {p_predict:.3f} ms")


def main() -> None:
    global PNG
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "default"))
    parser.add_argument("--requests", type=int, default=1500, help="per concurrency level, signlens")
    parser.add_argument("--naive-requests", type=int, default=200, help="per concurrency level, naive")
    parser.add_argument("--naive-server", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.naive_server:
        import uvicorn

        uvicorn.run(naive_app(args.model), host="127.0.0.1", port=args.port, log_level="warning")
        return
    PNG = sample_png()
    asyncio.run(run(args.model, args.requests, args.naive_requests))


if __name__ == "__main__":
    main()

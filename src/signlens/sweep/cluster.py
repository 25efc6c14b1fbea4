"""Ray for signlens: a local instance on loopback with this machine's cores, or an existing cluster.

Used by `signlens sweep` and `signlens predict --batch --ray`. An unreachable address fails in
seconds (a TCP probe before `ray.init`, which would otherwise retry for minutes).
"""

from __future__ import annotations

import logging
import os
import socket

from signlens import paths
from signlens.errors import SignlensError

PROBE_SECONDS = 3.0


class ClusterError(SignlensError):
    pass


def address(cli_address: str | None) -> str | None:
    """--address, else RAY_ADDRESS, else None (a local Ray)."""
    return cli_address or paths.ray_address_from_env()


def check_reachable(addr: str, timeout: float = PROBE_SECONDS) -> None:
    host, _, port = addr.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"Ray address {addr!r}: expected HOST:PORT (as `ray start --head` prints, e.g. 127.0.0.1:6379)")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ClusterError(f"cannot reach the Ray cluster at {addr} within {timeout:.0f}s ({exc}); "
                           "is `ray start --head` running there, and is the port open?") from None


def start(addr: str | None, num_cpus: int | None = None) -> None:
    """Connect to the cluster at `addr`, or start a new Ray here bound to 127.0.0.1 with `num_cpus`
    cores (a new one even when `ray start` runs on this machine: local means local)."""
    import ray

    # No usage-stats upload, and trials keep the driver's working directory (paths stay valid).
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_CHDIR_TO_TRIAL_DIR", "0")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    quiet = dict(log_to_driver=False, logging_level=logging.WARNING)
    if addr:
        if addr != "auto":
            check_reachable(addr)
        # `ray start` (2.60) requires a token by default; a client only sends it in token mode.
        os.environ.setdefault("RAY_AUTH_MODE", "token")
        ray.init(address=addr, **quiet)
    else:
        ray.init(address="local", num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
                 _node_ip_address="127.0.0.1", **quiet)


def stop() -> None:
    import ray

    ray.shutdown()

"""README's tour runs as written: every `$ ` line of a block marked `<!-- readme-test -->`.

Like doctest for a shell: the commands run in order, in a scratch folder that sees the
repository's examples/, models/, configs/ and data/, and each must succeed. Output is compared
where it does not depend on the CPU or the clock (the `OK` lines, the letters predicted).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARK = "<!-- readme-test -->"


def readme_blocks(text: str) -> list[list[tuple[str, list[str]]]]:
    """[(command, expected output lines), ...] per marked ```console block."""
    blocks = []
    for match in re.finditer(re.escape(MARK) + r"\s*```console\n(.*?)```", text, re.S):
        steps: list[tuple[str, list[str]]] = []
        for line in match.group(1).splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            elif steps:
                steps[-1][1].append(line)
        blocks.append(steps)
    return blocks


def _stable(line: str) -> str:
    """The part of an output line that must match: its words. Numbers, times, run ids and
    versions vary with the CPU and the clock."""
    line = re.sub(r"\b[0-9a-f]{12,32}\b", "<id>", line)
    return " ".join(re.sub(r"\d+", "#", line).split())


def test_readme_has_readme_blocks() -> None:
    blocks = readme_blocks((ROOT / "README.md").read_text())
    assert blocks and all(blocks), "README.md lost its tested tour"


@pytest.mark.parametrize("index", range(len(readme_blocks((ROOT / "README.md").read_text()))))
def test_readme_block_runs_as_written(index: int, tmp_path: Path) -> None:
    for shipped in ("examples", "models", "configs", "data"):
        (tmp_path / shipped).symlink_to(ROOT / shipped)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "SIGNLENS_HOME": str(tmp_path / ".signlens")}
    for command, expected in readme_blocks((ROOT / "README.md").read_text())[index]:
        assert shlex.split(command)[0] == "signlens", f"README runs only signlens commands: {command}"
        done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"`{command}` failed:\n{done.stderr[-2000:]}"
        got = [_stable(line) for line in done.stdout.splitlines()]
        for line in expected:
            if "..." not in line:
                assert _stable(line) in got, f"`{command}` no longer prints {line!r}; it printed:\n{done.stdout}"

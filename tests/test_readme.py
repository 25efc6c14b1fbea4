"""README's tour runs as written: every `$ ` line of a block marked `<!-- readme-test -->`.

Like doctest for a shell: the commands run in order, in a scratch folder that sees the
repository's examples/, models/, configs/ and data/, and each must succeed. Output is compared
where it does not depend on the CPU or the clock (the words of each line: numbers, ids and times
may differ). The commands run through `signlens`'s own entry point in this process, as the
installed script would run them, so the tour costs its work and not one TensorFlow import each.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from signlens.cli.main import main

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
def test_readme_block_runs_as_written(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    for shipped in ("examples", "models", "configs", "data"):
        (tmp_path / shipped).symlink_to(ROOT / shipped)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIGNLENS_HOME", str(tmp_path / ".signlens"))
    for command, expected in readme_blocks((ROOT / "README.md").read_text())[index]:
        words = shlex.split(command)
        assert words[0] == "signlens", f"README runs only signlens commands: {command}"
        assert main(words[1:]) == 0, f"`{command}` failed:\n{capsys.readouterr().err[-2000:]}"
        out = capsys.readouterr().out
        got = [_stable(line) for line in out.splitlines()]
        for line in expected:
            if "..." not in line:
                assert _stable(line) in got, f"`{command}` no longer prints {line!r}; it printed:\n{out}"

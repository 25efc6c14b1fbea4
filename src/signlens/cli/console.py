"""Output fit for a terminal and for a log file: TensorFlow's start-up banners filtered out.

TensorFlow 2.21 writes "All log messages before absl::InitializeLog() ..." and the oneDNN notice
to file descriptor 2 while it is imported, twice, whatever TF_CPP_MIN_LOG_LEVEL says (absl logs
before it is initialised ignore it). Commands that need TensorFlow import it through
`import_tensorflow()`, which captures descriptor 2 for the import and passes on every line that is
not one of those banners, so a real warning or error still reaches the user.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

#: Lines TensorFlow prints on every import that tell a user nothing they can act on.
BANNERS = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|oneDNN custom operations are on"
    r"|This TensorFlow binary is optimized to use available CPU instructions"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow"
    r"|Unable to register cu(DNN|FFT|BLAS) factory"
    r"|computation placer already registered"
    r"|Could not find cuda drivers on your machine"
    r"|failed call to cuInit"
)


def quiet_environment() -> None:
    """Settings that keep native libraries' chatter down; set before any of them is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def drop_banners(text: str) -> str:
    """The lines of `text` that are not TensorFlow's start-up banners."""
    return "".join(line for line in text.splitlines(keepends=True) if line.strip() and not BANNERS.search(line))


def import_tensorflow() -> None:
    """Import TensorFlow (and Keras) with its start-up banners dropped from stderr."""
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401  (Keras 3 imports TensorFlow, its backend here)
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            sys.stderr.write(drop_banners(captured.read().decode(errors="replace")))
            sys.stderr.flush()

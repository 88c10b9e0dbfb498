"""What produced a run's numbers: the code (vectorseq's git commit, when it runs from a checkout), torch and
the thread count. A record that carries them says whether a second training should reproduce the first to the
last digit (same commit, torch, device type and threads: it does, tested in the study) or only up to float
rounding (another commit: the study's 1,000-pair learned-word runs moved by up to 0.6 BLEU)."""
from __future__ import annotations

import functools
import subprocess
from pathlib import Path
from typing import Any

import torch

from .. import __version__

PACKAGE_DIR = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=None)
def code_commit(where: Path = PACKAGE_DIR) -> str | None:
    """The git commit of the checkout that holds ``where`` (the vectorseq package), ``+dirty`` when its tracked
    files differ from it; None outside a checkout or without git (an installed wheel)."""
    def git(*args: str) -> str | None:
        try:
            r = subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return r.stdout.strip() if r.returncode == 0 else None

    commit = git("rev-parse", "--short=12", "HEAD")
    if not commit:
        return None
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".")  # the package's own files only
    return commit + ("+dirty" if changed else "")


def software() -> dict[str, Any]:
    """The record's ``software`` field."""
    return {"vectorseq": __version__, "commit": code_commit(), "torch": torch.__version__,
            "threads": torch.get_num_threads()}

"""Bring the runs another machine finished into this grid (``vectorseq compare EXP --merge OTHER_FOLDER``).

A grid can be split between machines with ``--strategies``/``--sizes`` (say, a GPU machine trains the strategies
whose vectors fit on it, a CPU machine the rest). Each writes its own output folder; merging copies into this
one every run the other finished and this one has not: the run's folder and its archive (whatever of them
travelled: at least the test translations, for the report's significance tests) and its record, appended to
``results.jsonl``. A run finished
here is kept as it is: the other machine's result for it is reported as a duplicate, never mixed in.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import VectorseqError
from ..modelfolder import HYPOTHESES_FILE
from .results import (ARCHIVE_DIR, RESULTS_FILE, append_result, latest_results, read_hypotheses, read_results,
                      record_key)
from .spec import Experiment, Run


@dataclass
class MergeSummary:
    """What a merge did: the runs added, those already finished here, and those left out with the reason."""

    added: list[tuple[str, str, int]] = field(default_factory=list)
    already_here: list[tuple[str, str, int]] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"merged {len(self.added)} runs; {len(self.already_here)} already finished here were kept"]
        return out + [f"  left out: {why}" for why in self.left_out]


def merge_results(exp: Experiment, other: str | Path, finished: Callable[[Run, Any], bool],
                  config_hash: Callable[[Run], str]) -> MergeSummary:
    """Copy the runs finished in the output folder ``other`` (and not here) into ``exp``'s output folder.

    ``finished(run, record)`` says whether this folder already has ``run`` finished (the check ``compare`` uses
    to skip runs, given the latest record here or None); ``config_hash(run)`` is the hash of the config the
    experiment gives ``run`` today: a run the other machine trained with another config is left out."""
    other = Path(other)
    if not (other / RESULTS_FILE).is_file():
        raise VectorseqError(f"{other}: no {RESULTS_FILE}; give the output folder of the other machine's compare")
    out, summary = exp.output_dir, MergeSummary()
    here = {record_key(r): r for r in latest_results(read_results(out))} if (out / RESULTS_FILE).is_file() else {}
    runs = {r.key: r for r in exp.runs()}
    cut = {r.key: exp.cut_reason(r) for r in exp.stated_runs() if r.key not in runs}
    for rec in latest_results(read_results(other)):
        key = record_key(rec)
        if rec.get("status") != "ok":
            continue
        if key in cut:
            summary.left_out.append(f"{key}: cut by the experiment ({cut[key]}); delete that `cut:` entry to merge it")
        elif key not in runs:
            summary.left_out.append(f"{key}: not a run of {exp.name}'s grid")
        elif rec.get("config_hash") != config_hash(runs[key]):
            summary.left_out.append(f"{key}: trained with another config than the experiment gives it today")
        elif finished(runs[key], here.get(key)):
            summary.already_here.append(key)
        elif read_hypotheses(other, rec["model_dir"]) is None:
            summary.left_out.append(f"{key}: {other / rec['model_dir'] / HYPOTHESES_FILE} is missing (and is not "
                                    f"in {other / ARCHIVE_DIR})")
        else:
            _copy_run(other, out, rec["model_dir"])
            append_result(out, rec)
            summary.added.append(key)
    return summary


def _copy_run(other: Path, out: Path, model_dir: str) -> None:
    """Replace the run's folder and archive here (an unfinished run of this machine, if any) with the other
    machine's: whichever of the two travelled."""
    for where in ("", ARCHIVE_DIR):
        src, dst = other / where / model_dir, out / where / model_dir
        if not src.is_dir():
            continue
        if dst.exists():
            shutil.rmtree(dst)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dst)

"""``compare --again`` that survives an interruption: the plan of runs to train again, kept in the output folder
until every one of them has a result trained after the plan began.

Without it, an interrupted ``--again`` started again could not tell the runs it had already trained again
(their latest record is ``ok``, like every finished run's) from those it had not, and would train them all a
second time. The plan is ``again.json``: when it began and which runs it covers. A run whose latest ``ok``
record finished after the plan began is done; the others train (an interrupted one resumes from its
checkpoint). The plan is deleted when all its runs are done.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError

AGAIN_FILE = "again.json"


def begin_again(out: Path, keys: list[tuple[str, str, int]], log: Callable) -> tuple[str, bool]:
    """The plan's start time, and whether an interrupted plan for the same runs is being continued (else a new
    plan starts now). A plan for other runs is an error: two passes would mix."""
    path = out / AGAIN_FILE
    wanted = sorted([list(k) for k in keys])
    plan = _read(out)
    if plan is not None:
        if sorted(plan["runs"]) != wanted:
            raise ConfigError(f"{path}: an earlier `compare --again` of {len(plan['runs'])} other runs is "
                              "unfinished; finish it with the same --strategies/--sizes/--seeds, or delete "
                              f"{AGAIN_FILE} to drop it")
        log(f"continuing the `--again` begun at {plan['started_at']} ({AGAIN_FILE}); its runs trained since are kept")
        return plan["started_at"], True
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"started_at": started, "runs": wanted}, indent=1), encoding="utf-8")
    os.replace(tmp, path)  # whole or absent, never half-written
    return started, False


def trained_since(record: dict[str, Any] | None, started: str) -> bool:
    """Whether ``record`` is an ``ok`` result that finished after the plan began (times are UTC ISO strings)."""
    return bool(record) and record.get("status") == "ok" and str(record.get("finished_at") or "") >= started


def end_again(out: Path, latest: dict[tuple, dict], log: Callable) -> None:
    """Delete the plan once each of its runs has a result trained since it began."""
    plan = _read(out)
    if plan is None:
        return
    left = [k for k in plan["runs"] if not trained_since(latest.get(tuple(k)), plan["started_at"])]
    if left:
        log(f"{len(left)} runs of the `--again` begun at {plan['started_at']} have no new result yet: the same "
            "command continues it")
    else:
        (out / AGAIN_FILE).unlink()


def waiting(out: Path, latest: dict[tuple, dict]) -> set[tuple]:
    """The runs of an unfinished plan without a result since it began (``compare --plan`` counts them as left)."""
    plan = _read(out)
    if plan is None:
        return set()
    return {tuple(k) for k in plan["runs"] if not trained_since(latest.get(tuple(k)), plan["started_at"])}


def pending_notice(out: Path, left: int | None = None) -> str | None:
    """A line saying an unfinished ``--again`` waits (``left``: how many of its runs have no new result)."""
    plan = _read(out)
    if plan is None:
        return None
    of = f"{left} of its {len(plan['runs'])} runs" if left is not None else f"{len(plan['runs'])} runs"
    return (f"an unfinished `compare --again` ({of}, begun {plan['started_at']}; {out / AGAIN_FILE}): if it was "
            "interrupted, the same command finishes it")


def _read(out: Path) -> dict[str, Any] | None:
    """The plan, None when there is none."""
    path = out / AGAIN_FILE
    if not path.is_file():
        return None
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(plan.get("started_at"), str) or not isinstance(plan.get("runs"), list):
            raise ValueError("no started_at and runs")
    except (ValueError, AttributeError) as e:
        raise ConfigError(f"{path}: not a `compare --again` plan ({e}); delete it, and the next --again starts "
                          "over") from None
    return plan

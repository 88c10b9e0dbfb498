"""Checkpoint averaging: the element-wise mean of the weights of the last N validations.

Averaging the parameters of the last few checkpoints (Vaswani et al. 2017; fairseq's
``average_checkpoints.py``) often gives a model better than any single one of them, at no training cost. Here:

- ``training.average_checkpoints: N`` keeps the weights of the last N validations in ``checkpoints/recent/``
  (``step_<N>.safetensors``; older ones are deleted as new ones arrive, so disk use stays at N copies);
- when training ends, their average is validated like any checkpoint and **replaces model.safetensors only if it
  validates better** than the best single checkpoint (by ``early_stopping_metric``), so averaging can never make
  a model folder worse on validation; ``metrics.json`` records both (``averaged``);
- ``vectorseq average MODEL_DIR --last N -o OUT`` writes a model folder whose weights are that average, to try
  the average of any trained folder by hand (``vectorseq evaluate OUT``).

Only floating-point tensors are averaged (in float32, then cast back); others (integer buffers) must agree and
are copied. Every file is safetensors: nothing is unpickled.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..errors import VectorseqError
from ..modelfolder import WEIGHTS_FILE, load_weights, save_weights

RECENT_DIR = "checkpoints/recent"
_STEP_RE = re.compile(r"step_(\d+)\.safetensors$")


def snapshot_paths(model_dir: str | Path) -> list[Path]:
    """The kept snapshots of a model folder, oldest first."""
    folder = Path(model_dir) / RECENT_DIR
    found = [(int(m.group(1)), p) for p in folder.glob("step_*.safetensors") if (m := _STEP_RE.search(p.name))]
    return [p for _, p in sorted(found)]


def keep_snapshot(model_dir: Path, model: torch.nn.Module, step: int, keep: int) -> None:
    """Save this validation's weights and delete all but the ``keep`` newest (written atomically, deleted
    after, so a kill leaves at most one extra file, never a missing one)."""
    folder = model_dir / RECENT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    save_weights(model, folder / f"step_{step}.safetensors")
    for old in snapshot_paths(model_dir)[:-keep]:
        old.unlink(missing_ok=True)


def average_files(paths: list[Path]) -> dict[str, torch.Tensor]:
    """The element-wise mean of several safetensors weight files of one model."""
    if not paths:
        raise VectorseqError("no checkpoints to average; train with training.average_checkpoints: N (N >= 2)")
    total: dict[str, torch.Tensor] = {}
    first = load_file(str(paths[0]))
    for p in paths:
        tensors = first if p == paths[0] else load_file(str(p))
        if tensors.keys() != first.keys():
            raise VectorseqError(f"{p}: holds other tensors than {paths[0].name}; checkpoints of different models "
                                 "cannot be averaged")
        for k, t in tensors.items():
            if t.is_floating_point():
                total[k] = total.get(k, 0) + t.float()
            elif not torch.equal(t, first[k]):
                raise VectorseqError(f"{p}: integer tensor {k!r} differs from {paths[0].name}; cannot average")
    return {k: (total[k] / len(paths)).to(t.dtype) if t.is_floating_point() else t.clone() for k, t in first.items()}


def average_folder(model_dir: str | Path, output_dir: str | Path, last: int | None = None) -> Path:
    """A copy of ``model_dir`` (without checkpoints) whose weights are the mean of its last ``last`` snapshots."""
    src, out = Path(model_dir), Path(output_dir)
    paths = snapshot_paths(src)
    if last is not None:
        if last < 1:
            raise VectorseqError(f"--last must be at least 1, got {last}")
        paths = paths[-last:]
    if not paths:
        raise VectorseqError(f"{src / RECENT_DIR}: no kept checkpoints; train with training.average_checkpoints: N")
    if out.resolve() == src.resolve():
        raise VectorseqError(f"{out}: the output folder must differ from the model folder (its weights are kept)")
    if out.exists() and any(out.iterdir()):
        raise VectorseqError(f"{out}: exists and is not empty; choose a new output folder")
    averaged = average_files(paths)
    shutil.copytree(src, out, ignore=shutil.ignore_patterns("checkpoints", "lock.json"), dirs_exist_ok=True)
    tmp = out / (WEIGHTS_FILE + ".tmp")
    save_file(averaged, str(tmp), metadata={"averaged_steps": ",".join(_STEP_RE.search(p.name).group(1)
                                                                       for p in paths)})
    tmp.replace(out / WEIGHTS_FILE)
    return out


def average_at_end(model: torch.nn.Module, model_dir: Path, keep: int, validate_fn, best: dict | None,
                   is_better_fn) -> dict | None:
    """After training: validate the average of the kept snapshots and make it model.safetensors if it beats
    ``best`` (the best single checkpoint's validation record). Returns what metrics.json records."""
    paths = snapshot_paths(model_dir)[-keep:]
    if len(paths) < 2:
        return {"checkpoints": len(paths), "used": False, "why": "fewer than 2 validations to average"}
    tmp = model_dir / "checkpoints" / "averaged.safetensors"
    save_file(average_files(paths), str(tmp))
    load_weights(model, tmp)
    record = validate_fn(model)
    used = is_better_fn(record, best)
    if used:
        save_weights(model, model_dir / WEIGHTS_FILE)
    tmp.unlink(missing_ok=True)
    steps = [int(_STEP_RE.search(p.name).group(1)) for p in paths]
    return {"checkpoints": len(paths), "steps": steps, "used": used,
            **{k: record[k] for k in ("valid_loss", "valid_bleu", "valid_chrf")}}

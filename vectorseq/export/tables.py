"""What every export reads from a model folder: input tables, the output projection, the output folder.

Both exports (:mod:`~vectorseq.export.ctranslate2`, :mod:`~vectorseq.export.huggingface`) see an input layer
as ``table[ids] * scale`` with a ``[V, d_model]`` table, and the output layer as one ``[V, d_model]`` matrix;
these functions fold our layers' extra pieces (a projection to d_model, one-hot inputs, a tied table of
another width) into those two shapes. ``target`` names the export in error messages.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import torch

from ..data.directions import direction_plan
from ..embeddings.factory import EmbeddingInput, OneHotInput, PadTruncate
from ..errors import VectorseqError
from ..modelfolder import VECTORIZER_DIRS

#: the provenance file every export writes; its presence marks a folder as a previous export
EXPORT_FILE = "vectorseq_export.json"


def input_table(layer: torch.nn.Module, side: str, target: str) -> tuple[torch.Tensor, float]:
    """(table [V, d_model] such that input = table[ids] * scale, scale) for one input layer."""
    if isinstance(layer, EmbeddingInput):
        if not getattr(layer, "uses_positions", True):
            raise VectorseqError(f"export to {target}: the {side} input layer does not use positions; "
                                 f"{target} always adds them")
        w = layer.token_embedding.weight.detach().float()
        proj = layer.proj
        if isinstance(proj, torch.nn.Identity):
            table = w
        elif isinstance(proj, torch.nn.Linear):
            table = w @ proj.weight.detach().float().t()
            if proj.bias is not None:  # never built by the factory; a bias would not commute with the scale
                raise VectorseqError(f"export to {target}: the {side} embedding projection has a bias")
        elif isinstance(proj, PadTruncate):
            table = proj(w)
        else:
            raise VectorseqError(f"export to {target}: unknown {side} embedding projection {type(proj).__name__}")
        return table, float(layer.scale)
    if isinstance(layer, OneHotInput):
        return layer.linear.weight.detach().float().t(), 1.0
    raise VectorseqError(
        f"export to {target}: the {side} input layer is {type(layer).__name__}; only embedding tables "
        "(input: embedding) and one-hot inputs can be exported")


def output_weight(model: torch.nn.Module) -> torch.Tensor:
    """The ``[V, d_model]`` matrix W with logits = x @ W^T (a tied table of another width: ``W @ pre``)."""
    out = model.output
    if out.tied is None:
        return out.proj.weight.detach().float()
    w = out.tied.weight.detach().float()  # the unscaled table: logits = pre(x) @ W^T
    if isinstance(out.pre, torch.nn.Linear):
        w = w @ out.pre.weight.detach().float()  # [V, e] @ [e, d] -> [V, d]
    return w


def prepare_output(model_dir: Path, out: Path, files: tuple[str, ...]) -> None:
    """Make ``out`` an empty folder: new, empty, or a previous export (whose ``files`` are removed first)."""
    if out.resolve() == Path(model_dir).resolve():
        raise VectorseqError(f"export: --output {out} is the model folder itself; choose another folder")
    if out.exists():
        if not out.is_dir():
            raise VectorseqError(f"export: {out} exists and is not a folder")
        if any(out.iterdir()) and not (out / EXPORT_FILE).is_file():
            raise VectorseqError(f"export: {out} exists and is not empty (and is not a previous export); "
                                 "choose a new folder")
        for name in files + (EXPORT_FILE,):
            (out / name).unlink(missing_ok=True)
        for name in VECTORIZER_DIRS:
            if (out / name).is_dir():
                shutil.rmtree(out / name)
    out.mkdir(parents=True, exist_ok=True)


def refuse_several_directions(cfg, target: str) -> None:
    """A multilingual model cannot be exported yet: the engine's tokenizer would never add the language tag."""
    if direction_plan(cfg.data).tagged:
        raise VectorseqError(f"export to {target}: a model of several directions (data.directions) is not "
                             "exportable yet (its target-language tag is not passed on); use `vectorseq translate`")

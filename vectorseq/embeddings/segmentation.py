"""What a GBST input layer learned: the block-size weights of every byte (or character) of a sentence.

``segmentation_weights(translator, text)`` runs the source side of a trained model with
``embeddings.src.input: gbst`` on one sentence and returns its tokens (as the vectorizer displays them, with
the final ``</s>`` the model sees) and a ``[T, max_block]`` array: at each position, how much the layer
weighs a block of 1, 2, ... bytes there. :func:`segmentation_table` prints it as text and
:func:`segmentation_figure` draws it as a heat map. A position whose weight peaks at a large block size is
one the model reads as part of a longer unit; weights near uniform mean it has not committed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import VectorseqError
from .gbst import GBSTInput


def segmentation_weights(translator: Any, text: str) -> tuple[list[str], np.ndarray]:
    """The source tokens of ``text`` (``</s>`` last) and their block-size weights, float ``[T, max_block]``."""
    layer = getattr(translator.model, "src_input", None)
    if not isinstance(layer, GBSTInput):
        raise VectorseqError("this model's source input is not gbst (embeddings.src.input: gbst); "
                             "there is no learned segmentation to show")
    vec = translator.src_vectorizer
    ids = torch.tensor([vec.encode_sources([text])[0]], device=translator.device)
    with torch.no_grad():
        weights = layer.block_weights(ids)[0].float().cpu().numpy()
    return vec.tokenize(text) + ["</s>"], weights


def segmentation_table(tokens: list[str], weights: np.ndarray) -> str:
    """A text table: one row per token, one column per block size, and the size with the largest weight."""
    width = max([len("token")] + [len(t) for t in tokens])
    sizes = [f"b={b}" for b in range(1, weights.shape[1] + 1)]
    head = f"{'token':<{width}}  " + "  ".join(f"{s:>5}" for s in sizes) + "  best"
    rows = [head, "-" * len(head)]
    for tok, w in zip(tokens, weights):
        rows.append(f"{tok:<{width}}  " + "  ".join(f"{v:5.2f}" for v in w) + f"  {int(np.argmax(w)) + 1:>4}")
    return "\n".join(rows)


def segmentation_figure(tokens: list[str], weights: np.ndarray, path: str | Path) -> Path:
    """A heat map (block sizes x tokens) written to ``path`` (PNG, SVG, PDF: by the suffix)."""
    import matplotlib  # optional heavy dependency, only for the figure

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # optional heavy dependency, only for the figure

    fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * len(tokens)), 0.6 * weights.shape[1] + 1.2))
    ax.imshow(weights.T, aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0, origin="lower")
    ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=7)
    ax.set_yticks(range(weights.shape[1]), [str(b) for b in range(1, weights.shape[1] + 1)])
    ax.set_ylabel("block size")
    ax.set_title("GBST block-size weights")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path

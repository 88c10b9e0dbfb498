"""The training curve of a model folder: training and validation loss, and validation BLEU, per update."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_curve(history: list[dict[str, Any]], path: Path, title: str) -> None:
    """Draw ``history`` (the training log's records) to ``path`` (PNG)."""
    if not history:
        return
    # matplotlib is heavy to import and only needed here, once at the end of training
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, [h["train_loss"] for h in history], label="train loss (label-smoothed)")
    ax.plot(steps, [h["valid_loss"] for h in history], label="valid loss")
    ax.set_xlabel("update")
    ax.set_ylabel("loss per token")
    ax2 = ax.twinx()
    ax2.plot(steps, [h["valid_bleu"] for h in history], color="tab:green", marker="o", label="valid BLEU")
    ax2.set_ylabel("BLEU")
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, [ln.get_label() for ln in lines], loc="center right")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)

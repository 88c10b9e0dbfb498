"""``vectorseq compare``: which vectorization, and when?

Run a grid of vectorization strategies x training-set sizes x seeds with everything else held equal, then
write a report (results table, learning curve, training curves, paired significance, sample translations).

    >>> from vectorseq.compare import run_experiment, summary_table
    >>> report = run_experiment("configs/compare_builtin.yaml")   # resumable; returns .../report.md
    >>> print(summary_table(report.parent))                        # compact Markdown table of the results

See :mod:`vectorseq.compare.experiment` for the experiment file format, :mod:`vectorseq.compare.report` for the
report and :mod:`vectorseq.compare.significance` for the paired bootstrap test.
"""
from __future__ import annotations

from .experiment import (Experiment, ReportOptions, Run, latest_results, load_experiment, read_results,
                         run_experiment)
from .report import aggregate, summary_table, write_report
from .significance import PairedResult, paired_bootstrap, verdict

__all__ = ["Experiment", "PairedResult", "ReportOptions", "Run", "aggregate", "latest_results", "load_experiment",
           "paired_bootstrap", "read_results", "run_experiment", "summary_table", "verdict", "write_report"]

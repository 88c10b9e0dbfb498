"""``vectorseq compare``: which vectorization, and when?

Run a grid of vectorization strategies x training-set sizes x seeds with everything else held equal, then
write a report (results table, learning curve, training curves, paired significance, sample translations).

    >>> from vectorseq.compare import run_experiment, summary_table
    >>> report = run_experiment("configs/compare_builtin.yaml")   # resumable; returns .../report.md
    >>> print(summary_table(report.parent))                        # compact Markdown table of the results

The stages, in the order data flows:

- :mod:`~vectorseq.compare.spec`: the experiment file (parsed by the config engine) and its grid of runs;
- :mod:`~vectorseq.compare.plan`: the CPU plan (runs, budgets, CPU hours spent and left) before and during a grid;
- :mod:`~vectorseq.compare.experiment`: trains and scores every run, resumably;
- :mod:`~vectorseq.compare.results`: ``results.jsonl`` records, the files beside them, the summary table;
- :mod:`~vectorseq.compare.significance`: the paired bootstrap over test sentences and seeds, winners;
- :mod:`~vectorseq.compare.report` (with :mod:`~vectorseq.compare.verdicts`, :mod:`~vectorseq.compare.budget_report`,
  :mod:`~vectorseq.compare.figures` and :mod:`~vectorseq.compare.render`): report.md, report.html, figures and
  significance.json.
"""
from __future__ import annotations

from .experiment import merge_from, run_experiment
from .report import write_report
from .plan import plan, plan_text
from .results import aggregate, latest_results, read_results, summary_table
from .significance import PairedResult, paired_bootstrap, seeded_bootstrap, verdict, winner
from .spec import Experiment, ReportOptions, Run, load_experiment

__all__ = ["Experiment", "PairedResult", "ReportOptions", "Run", "aggregate", "latest_results", "load_experiment",
           "merge_from", "paired_bootstrap", "plan", "plan_text", "read_results", "run_experiment", "seeded_bootstrap", "summary_table", "verdict",
           "winner", "write_report"]

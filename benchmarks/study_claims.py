"""The usual advice about text vectorization, claim by claim, against the learning-curve study (issue 12).

Reads a compare output folder (results.jsonl + significance.json, as `vectorseq compare` writes them) and, for
every training-set size with runs of both sides, prints each claim's comparison: mean test BLEU +- std over
seeds, the difference, the seeded paired-bootstrap p-value the report computed, and a verdict (held / not held
/ no significant difference). A claim whose verdict changes between sizes "depends on data size"; the first size
of the new verdict is where it changes; ``--markdown`` ends with that summary, one line per claim.

    python benchmarks/study_claims.py docs/results/study_multi30k [--markdown]
    python benchmarks/study_claims.py docs/results/study_multi30k --readme README.md   # rewrite its block

``--readme`` replaces the README's block for the folder, between ``<!-- study_claims: FOLDER -->`` and
``<!-- /study_claims -->``, with the summary and the table (tests/test_study_claims.py checks every such block).
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
from pathlib import Path

PRETRAINED = ("glove_frozen", "glove_finetune", "glove_partial", "fasttext_indomain")
#: Embeddings learned in the model from a random start, over any split (the TF-IDF strategies, which add counts,
#: have their own claim).
FROM_SCRATCH = ("learned_word", "subword_1k", "subword_2k", "subword_4k", "subword_8k", "subword_16k",
                "subword_sampling", "bpe_dropout", "bytes", "gbst", "char_ngrams")

#: (claim, what it predicts as "a beats b", how the sides are chosen). A side is a strategy name or "best of".
CLAIMS = [
    ("TF-IDF is inferior to embeddings", "learned_word", "tfidf_sentence_vector"),
    ("pretrained embeddings help, especially with limited data", ("best of", PRETRAINED), "learned_word"),
    ("fine-tuning pretrained embeddings helps further", "glove_finetune", "glove_frozen"),
    # "viable": the best embeddings learned from scratch against the best pretrained ones, not against every
    # other strategy (at 29,000 pairs the best overall is itself learned from scratch: 8k subwords)
    ("learning embeddings in the model is viable (only) with larger datasets", ("best of", FROM_SCRATCH),
     ("best of", PRETRAINED)),
]


def _records(out: Path) -> dict[tuple[str, str, int], dict]:
    """The latest record of every (strategy, size, seed)."""
    latest: dict[tuple, dict] = {}
    for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        latest[(r["strategy"], str(r["size"]), r["seed"])] = r
    return latest


def _latest(out: Path) -> dict[tuple[str, str], list[float]]:
    """Test BLEU of every finished run, by (strategy, size), the latest record of each seed."""
    scores: dict[tuple[str, str], list[float]] = {}
    for (s, n, _), r in _records(out).items():
        if r["status"] == "ok":
            scores.setdefault((s, n), []).append(r["test_bleu"])
    return scores


def _test(sig: list[dict], size: str, a: str, b: str) -> dict | None:
    """The report's paired test of a against b at ``size`` (stored in either order), as a vs b."""
    for t in sig:
        if str(t["size"]) != size:
            continue
        if (t["name_a"], t["name_b"]) == (a, b):
            return {"delta": t["delta"], "p": t["p_value"], "significant": t["significant"], "seeds": t["seeds"]}
        if (t["name_a"], t["name_b"]) == (b, a):
            return {"delta": -t["delta"], "p": t["p_value"], "significant": t["significant"], "seeds": t["seeds"]}
    return None


def _sides(spec, size: str, scores: dict, exclude: str | None) -> list[str]:
    """A strategy name, or the members of a group ("best of") or all strategies ("best") by mean BLEU, best first."""
    if isinstance(spec, str):
        return [spec] if (spec, size) in scores else []
    _, group = spec
    pool = [(statistics.mean(v), s) for (s, n), v in scores.items()
            if n == size and s != exclude and (group is None or s in group)]
    return [s for _, s in sorted(pool, reverse=True)]


def _tested_pair(sig: list[dict], size: str, a_spec, b_spec, scores: dict) -> tuple[str, str, dict, list[str]] | None:
    """(a, b, their test, the group members with a higher mean left out for want of a test): a group side is its
    best member that the report could test against the other side (runs whose translations are lost, or that
    were trained again since, have none)."""
    skipped: list[str] = []
    for a in _sides(a_spec, size, scores, exclude=None):
        for b in _sides(b_spec, size, scores, exclude=a):
            t = _test(sig, size, a, b)
            if t is not None:
                return a, b, t, [s for s in dict.fromkeys(skipped) if s not in (a, b)]
            skipped.append(b if isinstance(b_spec, tuple) else a)
    return None


def _stat(v: list[float]) -> str:
    return f"{statistics.mean(v):.1f} ± {statistics.stdev(v):.1f}" if len(v) > 1 else f"{v[0]:.1f}"


def unfinished_sizes(out: Path) -> dict[str, str]:
    """Size -> "N of M runs" for the sizes of the folder's experiment.yaml whose kept runs are not all finished: a
    claim read off a part of a row (some strategies, one seed) could say what the whole row does not."""
    if not (out / "experiment.yaml").is_file():
        return {}
    from vectorseq.compare import load_experiment  # only here: the script's other functions need no vectorseq

    exp = load_experiment(out / "experiment.yaml", output_dir=out)
    done = {(s, n, sd) for (s, n, sd), r in _records(out).items() if r["status"] == "ok"}
    out_sizes: dict[str, list[int]] = {}
    for run in exp.runs():
        size = "all" if run.size is None else str(run.size)
        counts = out_sizes.setdefault(size, [0, 0])
        counts[0] += (run.strategy, size, run.seed) in done
        counts[1] += 1
    return {n: f"{a} of {b} runs" for n, (a, b) in out_sizes.items() if a < b}


def size_labels(out: Path) -> dict[str, str]:
    """How each size reads: "1,000", and the whole training set ("all") as its size where the records say it
    (``train_pairs``: "29,000"), else "all"."""
    labels = {}
    for (_, n, _), r in _records(out).items():
        if n != "all":
            labels[n] = f"{int(n):,}"
        elif r.get("train_pairs"):
            labels[n] = f"{r['train_pairs']:,}"
        else:
            labels.setdefault(n, "all")
    return labels


def evaluate(out: Path) -> list[dict]:
    scores = _latest(out)
    labels = size_labels(out)
    sig = json.loads((out / "significance.json").read_text(encoding="utf-8"))
    partial = unfinished_sizes(out)
    sizes = sorted({n for _, n in scores if n not in partial}, key=lambda n: float("inf") if n == "all" else int(n))
    rows = []
    for claim, a_spec, b_spec in CLAIMS:
        for size in sizes:
            found = _tested_pair(sig, size, a_spec, b_spec, scores)
            if found is None:
                continue
            a, b, t, untested = found
            if not t["significant"]:
                verdict = "no significant difference"
            else:
                verdict = "held" if t["delta"] > 0 else "not held (the opposite is significant)"
            if claim.startswith("learning embeddings"):  # viable: learned from scratch at least tied with pretrained
                if t["significant"]:
                    verdict = "viable (ahead of pretrained)" if t["delta"] > 0 else "not viable (pretrained ahead)"
                else:
                    verdict = "viable (tied with pretrained)"
            rows.append({"claim": claim, "pairs": size, "label": labels[size], "a": a, "b": b,
                         "bleu_a": _stat(scores[(a, size)]), "bleu_b": _stat(scores[(b, size)]),
                         "delta": round(t["delta"], 2), "p": t["p"], "seeds": t["seeds"], "verdict": verdict,
                         **({"untested_higher": untested} if untested else {})})
    return rows


def markdown(rows: list[dict]) -> str:
    lines = ["| claim | pairs | A | B | BLEU A | BLEU B | A - B (paired seeds) | p | verdict |",
             "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        lines.append(f"| {r['claim']} | {r['label']} | {r['a']} | {r['b']} | {r['bleu_a']} | {r['bleu_b']} | "
                     f"{r['delta']:+.2f} ({r['seeds']}) | {r['p']:.2f} | {r['verdict']}{_untested(r)} |")
    return "\n".join(lines)


def _untested(row: dict) -> str:
    """`` (untested: fasttext_indomain, a higher mean)`` when a better-scoring group member had no test."""
    names = row.get("untested_higher")
    return f" (untested: {', '.join(names)}, a higher mean)" if names else ""


def summary(rows: list[dict]) -> list[dict]:
    """One verdict per claim over the sizes measured: the same everywhere, or "depends on data size" with the
    size from which each verdict holds (consecutive sizes with the same verdict are one span)."""
    out = []
    for claim in dict.fromkeys(r["claim"] for r in rows):
        spans: list[list] = []  # [verdict, first size, last size]
        for r in (r for r in rows if r["claim"] == claim):
            short = r["verdict"].split(" (")[0]
            if spans and spans[-1][0] == short:
                spans[-1][2] = r["label"]
            else:
                spans.append([short, r["label"], r["label"]])
        if len(spans) == 1:
            v, first, last = spans[0]
            text = f"{v} at every size measured ({first}" + ("" if first == last else f" to {last}") + ")"
        else:
            parts = [f"{v} at {a}" if a == b else f"{v} from {a} to {b}" for v, a, b in spans]
            changes = " and ".join(first for _, first, _ in spans[1:])
            text = "depends on data size: " + "; ".join(parts) + f" (changes at {changes})"
        out.append({"claim": claim, "summary": text})
    return out


def summary_markdown(rows: list[dict]) -> str:
    return "\n".join(f"- *\"{s['claim']}\"*: {s['summary']}" for s in summary(rows))


def partial_markdown(partial: dict[str, str]) -> str:
    """The line naming the sizes left out because their rows are unfinished (empty when none)."""
    if not partial:
        return ""
    sizes = "; ".join(f"{'all' if n == 'all' else f'{int(n):,}'} pairs ({text} finished)" for n, text in
                      sorted(partial.items(), key=lambda kv: float("inf") if kv[0] == "all" else int(kv[0])))
    return f"\n- not read until their rows are complete: {sizes}"


def block(folder: str, rows: list[dict], partial: dict[str, str] | None = None) -> str:
    """The README block of ``folder`` (as written in its opening marker), markers included."""
    return (f"<!-- study_claims: {folder} -->\n{summary_markdown(rows)}{partial_markdown(partial or {})}\n\n"
            f"{markdown(rows)}\n<!-- /study_claims -->")


def readme_blocks(text: str) -> list[tuple[str, str]]:
    """Every (folder, block) of a README."""
    return [(m.group(1), m.group(0)) for m in
            re.finditer(r"<!-- study_claims: (\S+) -->\n.*?<!-- /study_claims -->", text, flags=re.S)]


def update_readme(readme: Path, folder: str, rows: list[dict], partial: dict[str, str] | None = None) -> None:
    text = readme.read_text(encoding="utf-8")
    old = dict(readme_blocks(text)).get(folder)
    if old is None:
        raise SystemExit(f"{readme}: no block <!-- study_claims: {folder} --> ... <!-- /study_claims --> to replace")
    readme.write_text(text.replace(old, block(folder, rows, partial)), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path, help="a compare output folder (results.jsonl, significance.json)")
    ap.add_argument("--markdown", action="store_true", help="a Markdown table instead of JSON")
    ap.add_argument("--readme", type=Path, help="rewrite this README's block for the folder instead of printing")
    a = ap.parse_args()
    rows = evaluate(a.folder)
    if a.readme:
        update_readme(a.readme, a.folder.as_posix(), rows, unfinished_sizes(a.folder))
    elif a.markdown:
        print(markdown(rows) + "\n\n" + summary_markdown(rows) + partial_markdown(unfinished_sizes(a.folder)))
    else:
        print(json.dumps({"rows": rows, "summary": summary(rows), "unfinished": unfinished_sizes(a.folder)},
                         indent=1))


if __name__ == "__main__":
    main()

"""Tests for benchmarks/study_claims.py: the README's claim-by-claim answer, from a compare output folder."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("study_claims", REPO / "benchmarks" / "study_claims.py")
claims = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(claims)


def _folder(tmp_path: Path, bleu: dict, tests: list[tuple]) -> Path:
    recs = [{"strategy": s, "size": n, "seed": i + 1, "status": "ok", "test_bleu": b,
             "train_pairs": 29000 if n == "all" else n}
            for (s, n), scores in bleu.items() for i, b in enumerate(scores)]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    sig = [{"size": n, "name_a": a, "name_b": b, "delta": d, "p_value": p, "significant": p < 0.05, "seeds": 3}
           for n, a, b, d, p in tests]
    (tmp_path / "significance.json").write_text(json.dumps(sig), encoding="utf-8")
    return tmp_path


def test_a_claim_whose_verdict_changes_with_the_data_depends_on_data_size(tmp_path):
    bleu = {("learned_word", 1000): [14.0, 15.0, 14.5], ("glove_finetune", 1000): [13.0, 13.2, 13.1],
            ("glove_frozen", 1000): [12.9, 13.0, 13.1], ("tfidf_sentence_vector", 1000): [14.2, 14.4, 14.3],
            ("learned_word", 3000): [20.5, 20.7, 20.9], ("glove_finetune", 3000): [22.0, 21.8, 21.9],
            ("glove_frozen", 3000): [20.0, 20.1, 19.9], ("tfidf_sentence_vector", 3000): [20.8, 20.6, 21.0],
            ("learned_word", "all"): [30.0], ("glove_finetune", "all"): [31.5], ("glove_frozen", "all"): [29.0],
            ("tfidf_sentence_vector", "all"): [30.1]}
    tests = [(1000, "learned_word", "glove_finetune", 1.4, 0.01), (1000, "glove_frozen", "glove_finetune", -0.1, 0.7),
             (1000, "tfidf_sentence_vector", "learned_word", -0.2, 0.6),
             (3000, "glove_finetune", "learned_word", 1.2, 0.01), (3000, "glove_finetune", "glove_frozen", 1.9, 0.0),
             (3000, "learned_word", "tfidf_sentence_vector", -0.1, 0.8),
             ("all", "glove_finetune", "learned_word", 1.5, 0.02), ("all", "glove_finetune", "glove_frozen", 2.5, 0.0),
             ("all", "learned_word", "tfidf_sentence_vector", -0.1, 0.9)]
    rows = claims.evaluate(_folder(tmp_path, bleu, tests))
    pretrained = [r for r in rows if r["claim"].startswith("pretrained")]
    assert [(r["pairs"], r["a"], r["verdict"]) for r in pretrained] == [
        ("1000", "glove_finetune", "not held (the opposite is significant)"), ("3000", "glove_finetune", "held"),
        ("all", "glove_finetune", "held")]
    assert pretrained[0]["delta"] == -1.4  # stored as learned - glove: turned to glove - learned
    assert "| pretrained embeddings help, especially with limited data | 29,000 | glove_finetune |" in \
        claims.markdown(rows)  # the whole training set reads as its size
    text = {s["claim"]: s["summary"] for s in claims.summary(rows)}
    assert text["TF-IDF is inferior to embeddings"] == \
        "no significant difference at every size measured (1,000 to 29,000)"
    assert text["pretrained embeddings help, especially with limited data"] == \
        "depends on data size: not held at 1,000; held from 3,000 to 29,000 (changes at 3,000)"
    assert text["fine-tuning pretrained embeddings helps further"].startswith(
        "depends on data size: no significant difference at 1,000; held from 3,000 to 29,000")


def test_every_readme_claims_block_is_what_the_script_prints_for_its_committed_study():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = claims.readme_blocks(readme)
    assert [folder for folder, _ in blocks][:1] == ["docs/results/study_multi30k"]
    for folder, text in blocks:
        assert text == claims.block(folder, claims.evaluate(REPO / folder), claims.unfinished_sizes(REPO / folder)), \
            f"README's claims for {folder} are stale: python benchmarks/study_claims.py {folder} --readme README.md"


def test_readme_update_replaces_only_its_own_block(tmp_path):
    bleu = {("learned_word", 1000): [14.0, 15.0], ("tfidf_sentence_vector", 1000): [14.2, 14.4]}
    (tmp_path / "r").mkdir()
    folder = _folder(tmp_path / "r", bleu, [(1000, "learned_word", "tfidf_sentence_vector", 0.2, 0.6)])
    other = "<!-- study_claims: elsewhere -->\nkept\n<!-- /study_claims -->"
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n<!-- study_claims: r -->\nold\n<!-- /study_claims -->\n\n{other}\n", encoding="utf-8")
    claims.update_readme(readme, "r", claims.evaluate(folder))
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("intro\n<!-- study_claims: r -->\n- *\"TF-IDF is inferior to embeddings\"*: no significant")
    assert "old" not in text and text.endswith(other + "\n")
    assert "| TF-IDF is inferior to embeddings | 1,000 | learned_word | tfidf_sentence_vector | 14.5 ± 0.7 |" in text


def test_the_committed_studies_carry_their_archived_translations():
    """docs/results/NAME/archive/ is what rebuilds a study's report without its model folders: it must be
    committed, not caught by the ignore rule for the top-level runs/ folder."""
    import subprocess

    probe = "docs/results/study_multi30k/archive/runs/learned_word/n10000_s1/hyps.txt"
    ignored = subprocess.run(["git", "check-ignore", "-q", probe], cwd=REPO).returncode == 0
    assert not ignored, f"{probe} is git-ignored: the archive would never be committed (see .gitignore)"
    assert claims.evaluate(REPO / "docs/results/study_multi30k")  # and the study's rows come from that folder
    assert (REPO / probe).is_file()


def test_a_group_side_without_a_test_falls_back_to_its_best_tested_member_and_says_so(tmp_path):
    """fastText has the best pretrained mean at 1,000 pairs but no test against learned words (its runs were
    trained again after the others' translations were lost): the claim uses GloVe fine-tuned and names fastText."""
    bleu = {("learned_word", 1000): [14.7, 14.9, 14.5], ("fasttext_indomain", 1000): [14.0, 14.1, 14.0],
            ("glove_finetune", 1000): [13.7, 13.8, 13.6]}
    rows = claims.evaluate(_folder(tmp_path, bleu, [(1000, "learned_word", "glove_finetune", 1.0, 0.01)]))
    row = next(r for r in rows if r["claim"].startswith("pretrained"))
    assert (row["a"], row["b"], row["delta"], row["untested_higher"]) == (
        "glove_finetune", "learned_word", -1.0, ["fasttext_indomain"])
    assert "| not held (the opposite is significant) (untested: fasttext_indomain, a higher mean) |" in \
        claims.markdown(rows)


def test_a_size_whose_row_is_unfinished_is_left_out_and_named(tmp_path):
    """Only GloVe-frozen and learned words have run at 3,000 pairs: "pretrained vectors do not help at 3,000" read
    off them would speak for fine-tuned GloVe too, which has not run. The size is left out and named."""
    exp = {"name": "mini", "base": {"data": {"dataset": "builtin"}, "training": {"max_steps": 5}},
           "strategies": {"learned_word": {}, "glove_frozen": {}}, "sizes": [100, 300], "seeds": [1, 2]}
    (tmp_path / "experiment.yaml").write_text(json.dumps(exp), encoding="utf-8")
    bleu = {("learned_word", 100): [14.0, 14.2], ("glove_frozen", 100): [13.0, 13.1], ("learned_word", 300): [20.0],
            ("glove_frozen", 300): [18.0]}
    folder = _folder(tmp_path, bleu, [(100, "learned_word", "glove_frozen", 1.0, 0.01),
                                      (300, "learned_word", "glove_frozen", 2.0, 0.01)])
    assert claims.unfinished_sizes(folder) == {"300": "2 of 4 runs"}
    rows = claims.evaluate(folder)
    assert {r["pairs"] for r in rows} == {"100"}
    assert "- not read until their rows are complete: 300 pairs (2 of 4 runs finished)" in \
        claims.block("x", rows, claims.unfinished_sizes(folder))


def test_viable_compares_the_best_learned_from_scratch_with_the_best_pretrained_not_with_everything(tmp_path):
    """At 29,000 pairs the best system learns its (subword) embeddings from scratch: that makes learning in the
    model viable, though learned *words* are below the best."""
    bleu = {("learned_word", 3000): [20.7, 20.5], ("subword_8k", 3000): [20.5, 20.4],
            ("glove_finetune", 3000): [21.9, 22.0], ("fasttext_indomain", 3000): [21.3, 21.2],
            ("learned_word", "all"): [33.9], ("subword_8k", "all"): [36.3], ("glove_finetune", "all"): [34.3],
            ("fasttext_indomain", "all"): [34.2]}
    tests = [(3000, "glove_finetune", "learned_word", 1.3, 0.01), (3000, "glove_finetune", "subword_8k", 1.5, 0.0),
             ("all", "subword_8k", "glove_finetune", 2.0, 0.001), ("all", "glove_finetune", "learned_word", 0.4, 0.45)]
    rows = [r for r in claims.evaluate(_folder(tmp_path, bleu, tests)) if r["claim"].startswith("learning")]
    assert [(r["label"], r["a"], r["b"], r["verdict"]) for r in rows] == [
        ("3,000", "learned_word", "glove_finetune", "not viable (pretrained ahead)"),
        ("29,000", "subword_8k", "glove_finetune", "viable (ahead of pretrained)")]
    assert rows[0]["delta"] == -1.3

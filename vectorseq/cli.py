"""The ``vectorseq`` command: a thin layer over the Python API.

User mistakes print one line (``error: ...``) and exit with status 2; ``--debug`` shows the traceback.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import yaml

from .compare import run_experiment
from .config import load_config, reference_markdown
from .data.parallel import read_monolingual
from .data.splits import load_splits
from .demo import run_demo
from .embeddings.idf_report import idf_changes, idf_table
from .embeddings.inspection import inspect_vectors
from .embeddings.segmentation import segmentation_figure, segmentation_table, segmentation_weights
from .errors import VectorseqError
from .evaluation import evaluate
from .export import CT2Translator, export_model
from .modelfolder import CONFIG_FILE, load_vectorizers
from .tools.extend_vocab import extend_model_folder, load_extended_translator, oov_stats
from .tools.train_vectors import train_vectors
from .training import train
from .translator import Translator
from .vectorizer import TextVectorizer


def _read_lines(path: str | None) -> list[str]:
    """Every line of a file (plain or .gz) or of stdin, blank lines kept: output line i is always the
    translation of input line i (a blank line translates to a blank line)."""
    if path in (None, "-"):
        return _stdin_lines()
    p = Path(path)
    if not p.is_file():
        raise VectorseqError(f"{p}: input file not found; check the path")
    return list(read_monolingual(p, skip_empty=False))


def _stdin_lines() -> list[str]:
    """stdin's lines, decoded as UTF-8 here so that bad bytes name their line instead of a traceback."""
    lines = []
    for number, raw in enumerate(sys.stdin.buffer, 1):
        try:
            lines.append(raw.decode("utf-8").rstrip("\r\n").strip())
        except UnicodeDecodeError as e:
            raise VectorseqError(f"<stdin>:{number}: not valid UTF-8 (byte {e.start}); convert the input to UTF-8, "
                                 "e.g. with iconv") from None
    return lines


def _positive(name: str):
    """An argparse type: an integer >= 1, or a one-line usage error naming the option."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name} must be a positive integer, got {text!r}")
        return value
    return parse


def _check_search_args(a: argparse.Namespace, beam_default: int) -> None:
    """--n-best needs as many beams; --output must be a file."""
    n_best = getattr(a, "n_best", 1)
    beam = a.beam or beam_default
    if n_best > beam:
        raise VectorseqError(f"--n-best {n_best} needs --beam of at least {n_best} (the beam is {beam}); "
                             f"add --beam {n_best}")
    if a.output and Path(a.output).is_dir():
        raise VectorseqError(f"--output {a.output} is a directory; name a file, e.g. {Path(a.output) / 'out.txt'}")


def cmd_train(a: argparse.Namespace) -> int:
    cfg = load_config(a.config, a.set)
    out = a.output or f"runs/{cfg.name}"
    res = train(cfg, out, progress=not a.quiet)
    print(json.dumps({"model_dir": str(res.model_dir), **{k: v for k, v in res.metrics.items()
                                                            if k != "test_samples"}}, indent=1, ensure_ascii=False))
    return 0


def _load_translator(a: argparse.Namespace) -> Any:
    """A PyTorch model folder, or with ``--engine ctranslate2`` a folder written by `vectorseq export`."""
    extend = getattr(a, "extend_vocab", False)
    if a.engine == "ctranslate2":
        if extend:
            raise VectorseqError("--extend-vocab needs the pytorch engine (a model folder), not --engine ctranslate2")
        return CT2Translator.load(a.model_dir, device=a.device, compute_type=a.compute_type)
    if extend:
        return load_extended_translator(a.model_dir, device=a.device)
    return Translator.load(a.model_dir, device=a.device)


def _translate_lines(tr: Any, lines: list[str], n_best: int = 1, **search: Any) -> list:
    """Translate the non-blank lines; a blank line stays blank (n_best blanks), so outputs stay aligned."""
    keep = [i for i, line in enumerate(lines) if line.strip()]
    out: list = [[""] * n_best if n_best > 1 else ""] * len(lines)
    for i, hyp in zip(keep, tr.translate([lines[i] for i in keep], n_best=n_best, **search) if keep else []):
        out[i] = hyp
    return out


def cmd_translate(a: argparse.Namespace) -> int:
    tr = _load_translator(a)
    _check_search_args(a, tr.config.decoding.beam_size)
    lines = _read_lines(a.input)
    hyps = _translate_lines(tr, lines, beam=a.beam, n_best=a.n_best, batch_size=a.batch_size)
    out = open(a.output, "w", encoding="utf-8") if a.output else sys.stdout
    try:
        for h in hyps:
            out.write(("\n".join(h) if a.n_best > 1 else h) + "\n")
    finally:
        if a.output:
            out.close()
    return 0


def cmd_evaluate(a: argparse.Namespace) -> int:
    tr = _load_translator(a)
    _check_search_args(a, tr.config.decoding.beam_size)
    if a.src or a.ref:
        if not (a.src and a.ref):
            raise VectorseqError("evaluate: give both --src and --ref (or neither, to use the config's test split)")
        src, ref = _read_lines(a.src), _read_lines(a.ref)
        if len(src) != len(ref):
            raise VectorseqError(f"{a.src} has {len(src)} lines but {a.ref} has {len(ref)}; they must be aligned")
    else:
        split = load_splits(tr.config.data, seed=tr.config.training.seed)[a.split]
        if split is None:
            raise VectorseqError(f"the config's data has no {a.split} split; pass --src and --ref")
        src, ref = split.src, split.tgt
    result, hyps = evaluate(tr, src, ref, beam=a.beam, batch_size=a.batch_size)
    del result["samples"]  # the command prints scores; --output writes every translation
    if getattr(tr, "extension", None) is not None:
        result["extend_vocab"] = oov_stats(tr.src_vectorizer, tr.extension, src)
    if a.output:
        Path(a.output).write_text("\n".join(hyps) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0


def cmd_demo(a: argparse.Namespace) -> int:
    run_demo(output_dir=a.output, quick=a.quick, progress=not a.quiet)
    return 0


def cmd_config(a: argparse.Namespace) -> int:
    if a.reference:
        print(reference_markdown())
    else:
        cfg = load_config(a.config, a.set)
        print(yaml.safe_dump(cfg.to_dict(), sort_keys=False, allow_unicode=True), end="")
    return 0


def cmd_embeddings_inspect(a: argparse.Namespace) -> int:
    if (Path(a.vectors) / CONFIG_FILE).is_file():  # a model folder: what its learned IDF learned
        tr = Translator.load(a.vectors, device="cpu")
        report = idf_changes(tr.model.src_input, tr.src_vectorizer.get_vocabulary(), top=a.top)
        print(idf_table(report) if a.format == "table" else json.dumps(report, indent=1, ensure_ascii=False))
        return 0
    texts = _read_lines(a.text) if a.text else None
    vocab = _read_lines(a.vocab) if a.vocab else None
    if vocab is not None:
        vocab = [line.split("\t")[0].split(" ")[0] for line in vocab if line.strip()]
    # tokenize the text the way a word-level model would (so "horse." counts as "horse" and ".")
    tok = TextVectorizer(standardize=a.standardize, split=a.split, vocabulary=["x"]).tokenize
    report = inspect_vectors(a.vectors, texts=texts, vocabulary=vocab, tokenize=tok)
    report["tokenization"] = {"standardize": a.standardize, "split": a.split}
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


def cmd_embeddings_train(a: argparse.Namespace) -> int:
    # by default, tokenize like a word-level model would (see `embeddings inspect`)
    tokenizer = TextVectorizer(standardize=a.standardize, split=a.split, vocabulary=["x"])
    if a.model_dir:
        cfg = load_config(Path(a.model_dir) / CONFIG_FILE)
        src, tgt = load_vectorizers(Path(a.model_dir), cfg.vectorizer.shared)
        tokenizer = tgt if a.side == "tgt" else src
    res = train_vectors(a.input, algorithm=a.algorithm, dim=a.dim, window=a.window, min_count=a.min_count,
                        epochs=a.epochs, seed=a.seed, tokenize=tokenizer, output_path=a.output,
                        workers=a.workers)
    print(json.dumps(res.to_dict(), indent=1, default=str))
    return 0


def cmd_embeddings_extend(a: argparse.Namespace) -> int:
    summary = extend_model_folder(a.model_dir, vectors=a.vectors, max_words=a.max_words, dtype=a.dtype)
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    return 0


def cmd_compare(a: argparse.Namespace) -> int:
    run_experiment(a.experiment, output_dir=a.output, report_only=a.report_only, progress=not a.quiet,
                   workers=a.workers)
    return 0


def cmd_export(a: argparse.Namespace) -> int:
    path = export_model(a.model_dir, a.output, format=a.format, quantization=a.quantization)
    print(path)
    return 0


def cmd_inspect_segmentation(a: argparse.Namespace) -> int:
    tokens, weights = segmentation_weights(Translator.load(a.model_dir), a.text)
    print(segmentation_table(tokens, weights))
    if a.figure:
        print(segmentation_figure(tokens, weights, a.figure))
    return 0


def _engine_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", default="pytorch", choices=["pytorch", "ctranslate2"],
                   help="pytorch: a model folder; ctranslate2: a folder written by `vectorseq export`")
    p.add_argument("--compute-type", default="default",
                   help="ctranslate2 only: default (the exported weights' type), int8, int8_float32, float32, ...")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vectorseq", description=__doc__.splitlines()[0])
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model from a YAML config")
    t.add_argument("config")
    t.add_argument("--output", "-o", help="model folder (default runs/NAME)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key, e.g. --set training.max_steps=100 (repeatable)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(func=cmd_train)

    tr = sub.add_parser("translate", help="translate raw text with a model folder")
    tr.add_argument("model_dir")
    tr.add_argument("--input", "-i", help="input file (plain or .gz; default stdin)")
    tr.add_argument("--output", "-o", help="output file (default stdout)")
    tr.add_argument("--beam", type=_positive("--beam"), help="beam size (default: the config's)")
    tr.add_argument("--n-best", type=_positive("--n-best"), default=1, help="write N hypotheses per input line")
    tr.add_argument("--batch-size", type=_positive("--batch-size"))
    tr.add_argument("--device", default="cpu")
    tr.add_argument("--extend-vocab", action="store_true",
                    help="unknown source words found in MODEL_DIR/extension/ (`vectorseq embeddings extend`) get "
                         "their frozen pretrained vectors instead of <unk>")
    _engine_args(tr)
    tr.set_defaults(func=cmd_translate)

    ev = sub.add_parser("evaluate", help="BLEU / chrF of a model folder on a test set")
    ev.add_argument("model_dir")
    ev.add_argument("--split", default="test", choices=["test", "valid"])
    ev.add_argument("--src", help="source file (instead of the config's split)")
    ev.add_argument("--ref", help="reference file")
    ev.add_argument("--beam", type=_positive("--beam"))
    ev.add_argument("--batch-size", type=_positive("--batch-size"))
    ev.add_argument("--output", "-o", help="also write the translations here")
    ev.add_argument("--device", default="cpu")
    ev.add_argument("--extend-vocab", action="store_true",
                    help="use the model folder's vocabulary extension (see translate --extend-vocab); the result "
                         "adds how many <unk> source tokens it rescued")
    _engine_args(ev)
    ev.set_defaults(func=cmd_evaluate)

    d = sub.add_parser("demo", help="the main job on the built-in corpus: train, evaluate, compare")
    d.add_argument("--output", "-o", default="runs/demo")
    d.add_argument("--quick", action="store_true", help="a much shorter run (for smoke tests)")
    d.add_argument("--quiet", action="store_true")
    d.set_defaults(func=cmd_demo)

    c = sub.add_parser("config", help="show the validated config, or the config reference")
    c.add_argument("config", nargs="?")
    c.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    c.add_argument("--reference", action="store_true", help="print the reference of every config key (Markdown)")
    c.set_defaults(func=cmd_config)

    e = sub.add_parser("embeddings", help="pretrained vectors: inspect coverage, train your own, extend a model's vocabulary")
    esub = e.add_subparsers(dest="embeddings_command", required=True)
    ei = esub.add_parser("inspect", help="format, size and coverage of a vectors file; or, given a model folder "
                                         "trained with embeddings.src.idf: learned, the words whose IDF moved most")
    ei.add_argument("vectors", help="vectors file, a named source (glove-6b-50d), or a model folder")
    ei.add_argument("--top", type=int, default=20, help="model folder: how many words moved up and down")
    ei.add_argument("--format", choices=["json", "table"], default="json", help="model folder: output format")
    ei.add_argument("--vocab", help="a vocabulary file (one token per line, first column)")
    ei.add_argument("--text", help="a text file (plain or .gz) whose tokens give the vocabulary and counts")
    ei.add_argument("--split", default="word", choices=["whitespace", "word"], help="how --text is tokenized")
    ei.add_argument("--standardize", default="none", help="none, lower, nfkc, ... applied before splitting")
    ei.set_defaults(func=cmd_embeddings_inspect)
    et = esub.add_parser("train", help="train word2vec/fastText vectors with gensim on monolingual text")
    et.add_argument("--input", "-i", required=True, help="monolingual text (plain or .gz)")
    et.add_argument("--output", "-o", required=True, help="output path (.vec; fastText also writes .bin)")
    et.add_argument("--algorithm", choices=["word2vec", "fasttext"], default="fasttext")
    et.add_argument("--dim", type=int, default=100)
    et.add_argument("--window", type=int, default=5)
    et.add_argument("--min-count", type=int, default=2)
    et.add_argument("--epochs", type=int, default=5)
    et.add_argument("--seed", type=int, default=0)
    et.add_argument("--workers", type=int, default=2)
    et.add_argument("--split", default="word", choices=["whitespace", "word"], help="how the text is tokenized")
    et.add_argument("--standardize", default="none", help="none, lower, nfkc, ... applied before splitting")
    et.add_argument("--model-dir", help="tokenize with this model folder's vectorizer instead (e.g. SentencePiece "
                                        "pieces, so subword models can start from pretrained subword vectors)")
    et.add_argument("--side", choices=["src", "tgt"], default="src")
    et.set_defaults(func=cmd_embeddings_train)
    ex = esub.add_parser("extend", help="store pretrained vectors of words missing from a model's source vocabulary "
                                        "(frozen/partial source embeddings), for translate --extend-vocab")
    ex.add_argument("model_dir")
    ex.add_argument("--vectors", help="the vectors file (default: the config's embeddings.src.vectors)")
    ex.add_argument("--max-words", type=int, default=50_000, help="the most words to add, in file order (default 50000)")
    ex.add_argument("--dtype", default="float16", choices=["float16", "float32"], help="storage type of the vectors")
    ex.set_defaults(func=cmd_embeddings_extend)

    cp = sub.add_parser("compare", help="run a grid of vectorization strategies and write a report")
    cp.add_argument("experiment")
    cp.add_argument("--output", "-o")
    cp.add_argument("--report-only", action="store_true", help="only rebuild the report from results.jsonl")
    cp.add_argument("--quiet", action="store_true")
    cp.add_argument("--workers", type=int, default=1,
                    help="train N runs at once, each in its own single-thread process (e.g. 2 on 2 cores)")
    cp.set_defaults(func=cmd_compare)

    x = sub.add_parser("export", help="export a model folder to another engine")
    x.add_argument("model_dir")
    x.add_argument("--output", "-o", required=True)
    x.add_argument("--format", default="ctranslate2", choices=["ctranslate2", "huggingface"],
                   help="ctranslate2: a CTranslate2 folder; huggingface: a transformers MarianMT folder "
                        "(post-norm models: train with model.norm: post)")
    x.add_argument("--quantization", default=None,
                   choices=["int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16",
                            "bfloat16", "float32"],
                   help="ctranslate2 weight type (default float32; int8 can also be chosen at load time with "
                        "--compute-type int8)")
    x.set_defaults(func=cmd_export)

    sg = sub.add_parser("inspect-segmentation", help="the block-size weights a gbst source input gives each byte")
    sg.add_argument("model_dir")
    sg.add_argument("text")
    sg.add_argument("--figure", help="also draw them as a heat map into this file (PNG/SVG/PDF)")
    sg.set_defaults(func=cmd_inspect_segmentation)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except VectorseqError as e:
        if args.debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; a training run resumes from its last checkpoint when started again", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The ``vectorseq`` command: a thin layer over the Python API.

User mistakes print one line (``error: ...``) and exit with status 2; ``--debug`` shows the traceback.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any, NoReturn, Sequence

import yaml

from .compare import load_experiment, plan_text, run_experiment
from .config import load_config, reference_markdown
from .data.directions import Direction, DirectionPlan, direction_plan
from .data.multilingual import direction_files, load_direction_splits
from .data.parallel import read_monolingual
from .demo import run_demo
from .demo_multilingual import run_multilingual_demo
from .embeddings.idf_report import idf_changes, idf_table
from .embeddings.inspection import inspect_vectors
from .embeddings.segmentation import segmentation_figure, segmentation_table, segmentation_weights
from .errors import ConfigError, VectorseqError
from .evaluation import evaluate, evaluate_directions, folder_split
from .explain_text import format_explanation
from .export import CT2Translator, export_model
from .modelfolder import CONFIG_FILE, load_vectorizers
from .tools.extend_vocab import extend_model_folder, load_extended_translator, oov_stats
from .tools.train_vectors import train_vectors
from .training import train
from .training.distributed import exit_worker, joined_group, process_rank
from .training.averaging import average_folder
from .translator import Translator
from .vectorizer import TextVectorizer

try:  # the serve extra (FastAPI, uvicorn) is optional: every other command works without it
    from .serve.limits import Limits
    from .serve.server import ServeOptions, run_server
except ModuleNotFoundError as _missing:
    if _missing.name not in ("fastapi", "uvicorn", "starlette", "pydantic"):
        raise
    Limits = ServeOptions = run_server = None  # type: ignore[assignment,misc]


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
    if process_rank() == 0:  # under torchrun, one summary (rank 0's, the one with the test scores), not one a rank
        print(json.dumps({"model_dir": str(res.model_dir), **{k: v for k, v in res.metrics.items()
                                                                if k != "test_samples"}}, indent=1, ensure_ascii=False))
    if joined_group():  # a torchrun worker: done, and ended before interpreter finalization can abort it
        exit_worker(0)
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


def _languages(a: argparse.Namespace) -> dict[str, str]:
    """``--tgt-lang`` / ``--src-lang`` as keywords; a bilingual model (or an export) takes neither."""
    return {k: v for k, v in (("tgt_lang", a.tgt_lang), ("src_lang", a.src_lang)) if v}


def cmd_translate(a: argparse.Namespace) -> int:
    tr = _load_translator(a)
    _check_search_args(a, tr.config.decoding.beam_size)
    lines = _read_lines(a.input)
    into = _languages(a)
    hyps = _translate_lines(tr, lines, beam=a.beam, n_best=a.n_best, batch_size=a.batch_size, **into)
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
    elif a.direction or direction_plan(tr.config.data).tagged:
        print(json.dumps(_evaluate_directions(a, tr), indent=1, ensure_ascii=False))
        return 0
    else:
        split = folder_split(a.model_dir, tr.config, a.split)  # files only inside the model folder
        if split is None:
            raise VectorseqError(f"the config's data has no {a.split} split; pass --src and --ref")
        src, ref = split.src, split.tgt
    result, hyps = evaluate(tr, src, ref, beam=a.beam, batch_size=a.batch_size, **_languages(a))
    del result["samples"]  # the command prints scores; --output writes every translation
    if getattr(tr, "extension", None) is not None:
        result["extend_vocab"] = oov_stats(tr.src_vectorizer, tr.extension, src)
    if a.output:
        Path(a.output).write_text("\n".join(hyps) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    return 0


def _direction_split(a: argparse.Namespace, cfg: Any, d: Direction) -> Any:
    """One direction's ``--split`` of a ``dataset: files`` model: its file names filled in, inside the folder."""
    data = dataclasses.replace(cfg.data, **{name: direction_files(getattr(cfg.data, name), d)
                                            for name in ("valid", "test")})
    split = folder_split(a.model_dir, dataclasses.replace(cfg, data=data), a.split)
    if split is None:
        raise VectorseqError(f"the config's data has no {a.split} split for {d.name}; pass --src, --ref, "
                             "--src-lang and --tgt-lang")
    return split


def _evaluate_directions(a: argparse.Namespace, tr: Any) -> dict[str, Any]:
    """Every direction of a multilingual model on the config's split (or the ``--direction`` ones; those it was
    not trained on are scored as zero-shot), and the mean over the trained ones."""
    trained = direction_plan(tr.config.data)
    asked = [Direction.parse(x) for x in a.direction] or list(trained.all)
    plan = DirectionPlan(trained.trained, tuple(d for d in asked if d not in trained.trained))
    unknown = [d.name for d in asked if d.tgt not in trained.target_languages or d.src not in trained.languages]
    if unknown:
        raise VectorseqError(f"--direction {', '.join(unknown)}: the model knows the languages "
                             f"{', '.join(trained.languages)} and translates into {', '.join(trained.target_languages)}")
    if tr.config.data.dataset == "files":  # the folder's own files only, as for a bilingual model
        tests = {d: (_direction_split(a, tr.config, d), plan.is_zero_shot(d)) for d in asked}
    else:
        splits = load_direction_splits(tr.config.data, plan, seed=tr.config.training.seed)
        tests = {d: (splits[d][a.split], plan.is_zero_shot(d)) for d in asked}
    result = evaluate_directions(tr, tests, beam=a.beam, batch_size=a.batch_size)
    for scores in result["directions"].values():
        del scores["samples"]
    return result


def cmd_demo(a: argparse.Namespace) -> int:
    if a.multilingual:
        run_multilingual_demo(output_dir=a.output or "runs/demo_multilingual", quick=a.quick, progress=not a.quiet)
    else:
        run_demo(output_dir=a.output or "runs/demo", quick=a.quick, progress=not a.quiet)
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


def _csv(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def _seeds(text: str | None) -> list[int] | None:
    items = _csv(text)
    if items is None:
        return None
    bad = [t for t in items if not t.lstrip("-").isdigit()]
    if bad:
        raise ConfigError(f"compare: --seeds takes whole numbers separated by commas (e.g. '1,2'), got {bad[0]!r}")
    return [int(t) for t in items]


def cmd_compare(a: argparse.Namespace) -> int:
    if a.plan:
        print(plan_text(load_experiment(a.experiment, output_dir=a.output), workers=a.workers,
                        seconds_per_update=a.seconds_per_update))
        return 0
    run_experiment(a.experiment, output_dir=a.output, report_only=a.report_only, progress=not a.quiet,
                   workers=a.workers, strategies=_csv(a.strategies), sizes=_csv(a.sizes), merge=a.merge,
                   seeds=_seeds(a.seeds), again=a.again)
    return 0


def cmd_average(a: argparse.Namespace) -> int:
    print(average_folder(a.model_dir, a.output, last=a.last))
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


def cmd_inspect(a: argparse.Namespace) -> int:
    ex = Translator.load(a.model_dir, device=a.device).explain(a.text, beam=a.beam, n_best=a.n_best, layer=a.layer,
                                                               **_languages(a))
    print(json.dumps(ex.to_dict(), ensure_ascii=False) if a.json else format_explanation(ex, not a.no_attention))
    return 0


def cmd_serve(a: argparse.Namespace) -> int:
    if run_server is None:
        raise VectorseqError("vectorseq serve needs FastAPI and uvicorn: pip install 'vectorseq[serve]'")
    limits = Limits(max_chars=a.max_chars, max_texts=a.max_texts, max_queue=a.max_queue, max_beam=a.max_beam,
                    max_batch_tokens=a.max_batch_tokens, max_wait_ms=a.max_wait_ms, batching=not a.no_batching)
    run_server(ServeOptions(a.model_dirs, host=a.host, port=a.port, engine=a.engine, compute_type=a.compute_type,
                            device=a.device, threads=a.threads, api_key=a.api_key, limits=limits))
    return 0


def _serve_parser(sub: Any) -> None:
    s = sub.add_parser("serve", help="an HTTP translation server with cross-request batching and a page at /")
    s.add_argument("model_dirs", nargs="+", metavar="MODEL_DIR",
                   help="model folders (with --engine ctranslate2: `vectorseq export` folders)")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--device", default="cpu")
    s.add_argument("--threads", type=_positive("--threads"), help="threads of the decode thread's math library")
    s.add_argument("--api-key", help="require this key (Authorization: Bearer KEY); default $VECTORSEQ_API_KEY")
    s.add_argument("--max-chars", type=_positive("--max-chars"), default=2000, help="characters per text (413)")
    s.add_argument("--max-texts", type=_positive("--max-texts"), default=64, help="texts per request (413)")
    s.add_argument("--max-queue", type=_positive("--max-queue"), default=1024,
                   help="sentences queued over all requests (429)")
    s.add_argument("--max-beam", type=_positive("--max-beam"), default=16)
    s.add_argument("--max-batch-tokens", type=_positive("--max-batch-tokens"), default=2048,
                   help="source token ids per decoded batch")
    s.add_argument("--max-wait-ms", type=float, default=5.0,
                   help="how long a queued sentence waits for others to batch with (default 5)")
    s.add_argument("--no-batching", action="store_true", help="decode each request alone (for comparison)")
    _engine_args(s)
    s.set_defaults(func=cmd_serve)


def _engine_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", default="pytorch", choices=["pytorch", "ctranslate2"],
                   help="pytorch: a model folder; ctranslate2: a folder written by `vectorseq export`")
    p.add_argument("--compute-type", default="default",
                   help="ctranslate2 only: default (the exported weights' type), int8, int8_float32, float32, ...")


class _Parser(argparse.ArgumentParser):
    """argparse with the project's one-line errors: ``error: vectorseq config: argument --set: expected one
    argument ...`` instead of a usage block (its subcommand parsers are of this class too)."""

    def error(self, message: str) -> NoReturn:
        hint = ""
        if message.endswith("expected one argument"):  # e.g. --set -x: argparse takes "-x" for an option
            hint = " (a value that starts with '-' is written as --option=VALUE)"
        self.exit(2, f"error: {self.prog}: {message}{hint}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="vectorseq", description=__doc__.splitlines()[0])
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
    tr.add_argument("--tgt-lang", help="a multilingual model: the language to translate into, e.g. fr")
    tr.add_argument("--src-lang", help="a model with one source vocabulary per language (vectorizer.per_language) "
                                       "that reads several: the input's language, e.g. de")
    tr.add_argument("--extend-vocab", action="store_true",
                    help="unknown source words found in MODEL_DIR/extension/ (`vectorseq embeddings extend`) get "
                         "their frozen pretrained vectors instead of <unk>")
    _engine_args(tr)
    tr.set_defaults(func=cmd_translate)

    ev = sub.add_parser("evaluate", help="BLEU / chrF of a model folder on a test set")
    ev.add_argument("model_dir")
    ev.add_argument("--split", default="test", choices=["test", "valid"],
                    help="the config's split to score (data.dataset: files: only files inside the model folder)")
    ev.add_argument("--src", help="source file (instead of the config's split)")
    ev.add_argument("--ref", help="reference file")
    ev.add_argument("--beam", type=_positive("--beam"))
    ev.add_argument("--batch-size", type=_positive("--batch-size"))
    ev.add_argument("--output", "-o", help="also write the translations here")
    ev.add_argument("--device", default="cpu")
    ev.add_argument("--tgt-lang", help="a multilingual model with --src/--ref: the language to translate into")
    ev.add_argument("--src-lang", help="with --src/--ref and one source vocabulary per language: the source's language")
    ev.add_argument("--direction", action="append", default=[], metavar="SRC-TGT",
                    help="a multilingual model: score this direction of the config's dataset (repeatable; default "
                         "every configured one); one it was not trained on is scored and labelled zero-shot")
    ev.add_argument("--extend-vocab", action="store_true",
                    help="use the model folder's vocabulary extension (see translate --extend-vocab); the result "
                         "adds how many <unk> source tokens it rescued")
    _engine_args(ev)
    ev.set_defaults(func=cmd_evaluate)

    d = sub.add_parser("demo", help="the main job on the built-in corpus: train, evaluate, compare")
    d.add_argument("--output", "-o", help="output folder (default runs/demo, or runs/demo_multilingual)")
    d.add_argument("--quick", action="store_true", help="a much shorter run (for smoke tests)")
    d.add_argument("--multilingual", action="store_true",
                   help="instead: one model for En<->De and En<->Fr (De->Fr zero-shot), scores by direction")
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
    cp.add_argument("--strategies", metavar="PATTERNS",
                    help="train only these strategies (comma-separated shell patterns, e.g. 'subword_*,bytes'): "
                         "one machine runs a part of the grid, another the rest")
    cp.add_argument("--sizes", metavar="SIZES", help="train only these sizes (comma-separated, e.g. '3000,all')")
    cp.add_argument("--seeds", metavar="SEEDS", help="train only these seeds (comma-separated, e.g. '1,2')")
    cp.add_argument("--again", action="store_true",
                    help="train the runs chosen by --strategies/--sizes/--seeds again even where they finished "
                         "(after a code change, to check a run reproduces, or to recover lost translations); the "
                         "new record replaces the old one in the report, the old folder is kept as "
                         "NAME.before_again; interrupted, the same command continues it (again.json)")
    cp.add_argument("--merge", metavar="FOLDER",
                    help="add the runs another machine's compare finished in FOLDER (its output folder: "
                         "results.jsonl and runs/) and this one has not, then write the report; trains nothing")
    cp.add_argument("--plan", action="store_true",
                    help="train nothing: print the runs per size, their budget, CPU hours spent and left "
                         "(estimated from the finished runs)")
    cp.add_argument("--seconds-per-update", type=float, default=0.5,
                    help="--plan's cost of one update before any run has finished (measure it on your machine)")
    cp.set_defaults(func=cmd_compare)

    av = sub.add_parser("average", help="a model folder whose weights average the last kept checkpoints")
    av.add_argument("model_dir", help="trained with training.average_checkpoints: N")
    av.add_argument("--last", type=int, help="average only the newest N kept checkpoints (default: all kept)")
    av.add_argument("--output", "-o", required=True, help="a new folder (config, vectorizers, averaged weights)")
    av.set_defaults(func=cmd_average)

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

    ins = sub.add_parser("inspect", help="translate one text and show how it was vectorized: pieces, ids, <unk>, "
                                         "pretrained or learned rows, count weights, cross-attention")
    ins.add_argument("model_dir")
    ins.add_argument("text")
    ins.add_argument("--beam", type=_positive("--beam"))
    ins.add_argument("--n-best", type=_positive("--n-best"), default=1)
    ins.add_argument("--layer", type=int, help="one decoder layer's attention (default: the layers' average)")
    ins.add_argument("--no-attention", action="store_true", help="leave the attention grid out")
    ins.add_argument("--json", action="store_true", help="the explanation as JSON (what POST /explain returns)")
    ins.add_argument("--device", default="cpu")
    ins.add_argument("--tgt-lang", help="a multilingual model: the language to translate into")
    ins.add_argument("--src-lang", help="a model with one source vocabulary per language: the text's language")
    ins.set_defaults(func=cmd_inspect)
    _serve_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error, already printed in one line (2): a status, as below
        return e.code if isinstance(e.code, int) else 2
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

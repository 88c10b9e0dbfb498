"""Fuzz tests of the config loader (hypothesis): random YAML documents (random text, random values under the real
keys, a valid config with one value replaced) and random ``--set`` strings, through ``load_config`` and through
``vectorseq config``. Allowed outcomes: a Config, or a one-line VectorseqError (tests/_fuzz.py); the CLI exits 0
or 2 with one ``error:`` line. A config that loads is saved and read back unchanged."""
from __future__ import annotations

import contextlib
import io

import yaml
from hypothesis import given
from hypothesis import strategies as st

from _fuzz import FAST, outcome
from vectorseq.cli import main
from vectorseq.config import Config, load_config

DEFAULTS = Config().to_dict()


def _paths(d: dict, prefix: str = "") -> list[tuple[str, ...]]:
    out = []
    for k, v in d.items():
        out.append((*prefix, k) if prefix else (k,))
        if isinstance(v, dict):
            out += _paths(v, (*prefix, k) if prefix else (k,))
    return out


KEY_PATHS = _paths(DEFAULTS)
KEYS = sorted({p[-1] for p in KEY_PATHS})

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.integers(-3, 100),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["auto", "cpu", "cuda:7", "sentencepiece", "word", "transformer", "rnn", "bleu", "1e-4",
                     "plateau", "files", "builtin", ".nan", "~", "2000-01-01"]),
    st.dates(), st.datetimes(), st.binary(max_size=4))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=4),
                                                           st.integers(-2, 2)), inner, max_size=3)), max_leaves=8)


def _dump(doc) -> str:
    try:
        return yaml.safe_dump(doc, allow_unicode=True)
    except yaml.YAMLError:  # a value PyYAML cannot write: its repr is still a YAML document of some kind
        return repr(doc)


@st.composite
def mutated_config(draw) -> str:
    """The defaults with the value at one real key path replaced (or deleted, or its section replaced)."""
    doc = Config().to_dict()
    path = draw(st.sampled_from(KEY_PATHS))
    node = doc
    for k in path[:-1]:
        node = node[k]
    if draw(st.booleans()):
        node[path[-1]] = draw(_values)
    else:
        del node[path[-1]]
    return _dump(doc)


_yaml_text = st.text(st.sampled_from(list(":-[]{}#&*!|>'\"%@`, \n\t?~.=0123456789abenltru_") + ["\x00", "é",
                                                                                             "\ufeff"]),
                     max_size=60)
_documents = st.one_of(_yaml_text, mutated_config(), st.builds(_dump, _values),
                       st.builds(_dump, st.dictionaries(st.sampled_from(list(DEFAULTS)), _values, max_size=4)))
_override_values = st.one_of(st.text(max_size=10), st.builds(lambda v: yaml.safe_dump(v).strip(), _scalars))
_overrides = st.lists(st.one_of(
    st.text(max_size=20),
    st.builds(lambda p, v: f"{'.'.join(map(str, p))}={v}", st.sampled_from(KEY_PATHS), _override_values),
    st.builds(lambda k, v: f"{k}={v}", st.text(st.sampled_from(list("ab. =_")), max_size=8), _override_values)),
    max_size=3)


def _write(tmp_path_factory, text: str, raw: bytes | None = None):
    path = tmp_path_factory.mktemp("c") / "config.yaml"
    path.write_bytes(raw if raw is not None else text.encode("utf-8", "surrogatepass"))
    return path


@FAST
@given(text=_documents, overrides=_overrides)
def test_any_document_and_overrides_load_or_fail_cleanly(tmp_path_factory, text, overrides):
    path = _write(tmp_path_factory, text)
    kind, cfg = outcome(lambda: load_config(path, overrides))
    if kind == "ok":  # what loads is saved and read back unchanged
        again = path.with_name("again.yaml")
        cfg.save(again)
        assert load_config(again).to_dict() == cfg.to_dict()


@FAST
@given(raw=st.binary(max_size=80))
def test_any_bytes_load_or_fail_cleanly(tmp_path_factory, raw):
    outcome(lambda: load_config(_write(tmp_path_factory, "", raw)))


@FAST
@given(text=_documents, overrides=_overrides)
def test_the_config_command_exits_0_or_one_error_line(tmp_path_factory, text, overrides):
    path = _write(tmp_path_factory, text)
    argv = ["config", str(path)] + [a for o in overrides for a in ("--set", o)]
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        rc = outcome(lambda: main(argv))[1]
    assert rc in (0, 2), err.getvalue()
    if rc == 2:
        lines = err.getvalue().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), lines


def test_dates_in_a_config_are_named_not_crashed_on(tmp_path):
    """Found by the fuzzer: YAML reads an unquoted 2024-01-01 as a date, which the JSON round trip that merged
    --set values could not hold (TypeError)."""
    path = tmp_path / "c.yaml"
    path.write_text("name: 2024-01-01\n")
    kind, err = outcome(lambda: load_config(path, ["training.max_steps=5"]))
    assert kind == "error" and "name: datetime.date(2024, 1, 1) is not valid; expected str" in str(err)


def test_control_characters_are_one_line_errors(tmp_path):
    """Found by the fuzzer: PyYAML's error for a control character spans two lines, and so did ours."""
    path = tmp_path / "c.yaml"
    path.write_bytes(b"name: a\x00b\n")
    for call in (lambda: load_config(path), lambda: load_config(None, ["name=\x1f"])):
        kind, err = outcome(call)
        assert kind == "error" and "unacceptable character #x00" in str(err)

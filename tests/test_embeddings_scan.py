"""Tests of vectorseq.embeddings.scan: malformed lines are named (or skipped and counted), the header count
is checked, and unmatched lines are validated cheaply (fully with validate='all')."""
from __future__ import annotations

import pytest

from _vectors import write
from vectorseq.embeddings.matrix import build_matrix
from vectorseq.embeddings.scan import SAMPLE_SIZE
from vectorseq.errors import DataError


def test_header_count_mismatch(tmp_path):
    p = write(tmp_path / "t.vec", "5 3\nthe 1 2 3\ncat 4 5 6\n")
    with pytest.raises(DataError, match="announces 5 vectors but the file has 2") as e:
        build_matrix(p, ["the"], cache_dir=False)
    assert e.value.line == 1
    pm = build_matrix(p, ["the"], cache_dir=False, on_error="skip")
    assert pm.stats["skipped"] == {"header_count": 1}


# --------------------------------------------------------------------------------- malformed lines
GOOD = "the 1 2 3\ncat 4 5 6\n"


@pytest.mark.parametrize("bad,reason,fragment", [
    ("sat 1 2\n", "wrong_dimension", "has 2 values but the vectors in this file have 3"),
    ("sat 1 2 3 4\n", "wrong_dimension", "has 4 values"),
    ("sat 1 two 3\n", "not_a_number", "value 2 of the vector of 'sat' is not a number: 'two'"),
    ("sat 1 nan 3\n", "not_finite", "NaN or Inf"),
    ("sat 1 2 inf\n", "not_finite", "NaN or Inf"),
    ("sat 1 2 1e39\n", "not_finite", "out of float32 range"),
    ("cat 7 8 9\n", "duplicate", "duplicate word 'cat' (first on line 2)"),
])
def test_malformed_lines_name_the_line(tmp_path, bad, reason, fragment):
    p = write(tmp_path / "m.txt", GOOD + bad + "dog 0 0 1\n")
    vocab = ["the", "cat", "sat", "dog"]
    with pytest.raises(DataError) as e:
        build_matrix(p, vocab, cache_dir=False)
    assert e.value.line == 3 and e.value.path == str(p.resolve())
    assert f"{p.resolve()}:3: " in str(e.value) and fragment in str(e.value)
    assert "on_error='skip'" in str(e.value)
    pm = build_matrix(p, vocab, cache_dir=False, on_error="skip")
    assert pm.stats["skipped"] == {reason: 1}
    assert pm.matrix[1].tolist() == [4, 5, 6]  # duplicates: the first one wins
    assert pm.how[3] == "exact" and pm.matrix[3].tolist() == [0, 0, 1]
    assert pm.how[2] == ("random" if reason != "duplicate" else "random")


def test_validation_of_unmatched_lines(tmp_path):
    # too few fields are caught cheaply on any line; a non-number on an unused line only with validate='all'
    p = write(tmp_path / "u.txt", GOOD + "zzz 1 2\n")
    with pytest.raises(DataError) as e:
        build_matrix(p, ["the"], cache_dir=False)
    assert e.value.line == 3
    q = write(tmp_path / "v.txt", "".join(f"w{i} {i} 1 2\n" for i in range(SAMPLE_SIZE + 5)) + "zzz 1 x 2\nw7 1 2 3\n")
    pm = build_matrix(q, ["w3"], cache_dir=False)  # the bad line is unused and past the sample
    assert pm.how == ["exact"] and pm.stats["vectors"] == SAMPLE_SIZE + 7
    with pytest.raises(DataError) as e:
        build_matrix(q, ["w3"], cache_dir=False, validate="all")
    assert e.value.line == SAMPLE_SIZE + 6 and "not a number" in str(e.value)
    pm = build_matrix(q, ["w3"], cache_dir=False, validate="all", on_error="skip")
    assert pm.stats["skipped"] == {"duplicate": 1, "not_a_number": 1}

"""The training loop: epochs end where the batch source runs out, and the loop reads any BatchSource."""
from __future__ import annotations

from _tiny_training import quiet, tiny_config

import vectorseq.training.loop as loop
from vectorseq.data.batch_source import InMemorySource
from vectorseq.data.synthetic import builtin_splits
from vectorseq.training import train
from vectorseq.training.prepare import encode_corpus, make_vectorizer


def test_max_epochs_stops_after_every_update_of_the_epoch(tmp_path):
    cfg = tiny_config(training={"max_steps": None, "max_epochs": 1, "valid_every": 1000})
    res = train(cfg, tmp_path / "e", progress=False, evaluate_test=False, log=quiet)
    assert res.metrics["stop_reason"] == "max_epochs=1" and res.epochs == 1
    # as many updates as the epoch's batches (1 process, accumulate 1)
    s = builtin_splits(n_train=400, n_val=30, n_test=30, seed=1)["train"]
    vec = make_vectorizer(cfg.vectorizer.src, cfg.training.seed).adapt(list(s.src) + list(s.tgt))
    source = InMemorySource(encode_corpus(vec, s.src), encode_corpus(vec, s.tgt), cfg.training.batch_tokens,
                            cfg.training.seed)
    assert res.steps == len(source.epoch_batches(0)) == len(list(source.updates(0, 0, 0, 1, 1)))
    # two epochs: the first's updates, then every update of the second (its batches are shuffled anew)
    two = train(tiny_config(training={"max_steps": None, "max_epochs": 2, "valid_every": 1000}), tmp_path / "e2",
                progress=False, evaluate_test=False, log=quiet)
    assert (two.steps, two.epochs) == (res.steps + len(source.epoch_batches(1)), 2)
    assert [h["step"] for h in two.history] == [two.steps]  # validated once, when it stopped
    assert (tmp_path / "e2/model.safetensors").is_file()  # so the folder translates
    again = train(tiny_config(training={"max_steps": None, "max_epochs": 2, "valid_every": 1000}), tmp_path / "e2",
                  progress=False, evaluate_test=False, log=quiet)
    assert (again.steps, again.metrics["stop_reason"], len(again.history)) == (two.steps, "max_epochs=2", 1)
    # the epoch's last update falls on valid_every: validated (and logged) once, not twice
    once = train(tiny_config(training={"max_steps": None, "max_epochs": 1, "valid_every": res.steps}),
                 tmp_path / "e3", progress=False, evaluate_test=False, log=quiet)
    assert [h["step"] for h in once.history] == [res.steps]


def test_the_loop_reads_batches_only_through_the_source(tmp_path, monkeypatch):
    seen = []
    original = InMemorySource.updates

    def spy(self, epoch, start, rank, world, accumulate):
        seen.append((epoch, start, rank, world, accumulate))
        return original(self, epoch, start, rank, world, accumulate)

    monkeypatch.setattr(InMemorySource, "updates", spy)
    train(tiny_config(training={"accumulate": 2, "max_steps": 3, "valid_every": 3}), tmp_path / "s",
          progress=False, evaluate_test=False, log=quiet)
    assert seen == [(0, 0, 0, 1, 2)]


class _Clock:
    """A stand-in for the loop's ``time`` module: each reading is ``tick`` seconds after the previous one."""

    def __init__(self, tick: float):
        self.now, self.tick = 1_000_000.0, tick

    def time(self) -> float:
        self.now += self.tick
        return self.now


def test_max_minutes_stops_by_the_training_clock_and_counts_time_across_a_resume(tmp_path, monkeypatch):
    # the loop reads the clock once when it starts and once after every update: 25 s per update on this
    # clock, so 1 minute is over after update 3 (75 s), and 2 minutes after 2 more updates of a resumed run
    monkeypatch.setattr(loop, "time", _Clock(25.0))
    over = {"max_steps": None, "max_epochs": None, "valid_every": 1000}
    out = tmp_path / "t"
    res = train(tiny_config(training={**over, "max_minutes": 1}), out, progress=False, evaluate_test=False,
                log=quiet)
    assert (res.steps, res.metrics["stop_reason"], res.metrics["stop_class"]) == (3, "max_minutes=1.0", "time")
    assert [(h["step"], h["elapsed_s"]) for h in res.history] == [(3, 75.0)]  # validated when it stopped
    said: list[str] = []
    again = train(tiny_config(training={**over, "max_minutes": 1}), out, progress=False, evaluate_test=False,
                  log=lambda *a, **k: said.append(" ".join(map(str, a))))
    assert again.steps == 3 and any("already stopped (max_minutes=1.0) at update 3" in s for s in said)
    more = train(tiny_config(training={**over, "max_minutes": 2}), out, progress=False, evaluate_test=False,
                 log=quiet)
    assert (more.steps, more.metrics["stop_reason"]) == (5, "max_minutes=2.0")
    assert [(h["step"], h["elapsed_s"]) for h in more.history] == [(3, 75.0), (5, 125.0)]

"""The training loop: epochs end where the batch source runs out, and the loop reads any BatchSource."""
from __future__ import annotations

from _tiny_training import quiet, tiny_config

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

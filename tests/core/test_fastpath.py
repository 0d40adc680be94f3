"""train.compile "auto": the decision from compile cost and speed-up, its log line, its timings file, resume."""

from __future__ import annotations

import json

import pytest
import torch

from motornet_core.run_presets import RUN_PRESETS, run_preset
from motornet_core.training import ListSink, Trainer, fastpath
from motornet_core.training.fastpath import COLD_COMPILE_S, SPEED_UP, Timing, decide, graph_key, read_timing, write_timing


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    """A fresh inductor cache (and its timings file) with automatic compilation allowed."""
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    monkeypatch.delenv(fastpath.AUTO_ENV, raising=False)
    return tmp_path / "inductor" / "motornet_core" / "timings.json"


def test_decide_compiles_when_the_saving_exceeds_the_compilation() -> None:
    # saving = remaining * eager_s * (1 - 1/2): 1000 * 0.1 * 1/2 = 50 s > 25 s
    assert fastpath.SPEED_UP == 2.0 and fastpath.COLD_COMPILE_S == 25.0
    d = decide(1000, 0.1, None)
    assert d.compiled and "save ~50 s > ~25 s" in d.reason and "cold cache" in d.reason
    # break-even at remaining = 25 / (0.1 * 1/2) = 500 iterations
    assert not decide(499, 0.1, None).compiled and decide(501, 0.1, None).compiled
    assert not decide(0, 1.0, None).compiled


def test_a_cached_graph_and_a_measured_speed_up_lower_the_threshold() -> None:
    # cached, 2 s measured load, measured 5x: saving 30 * 0.1 * 0.8 = 2.4 s > 2 s
    warm = Timing(eager_s=0.5, compiled_s=0.1, warm_compile_s=2.0, cached=True)
    d = decide(30, 0.1, warm)
    assert d.compiled and "5.0x faster (measured)" in d.reason and "cache holds this graph" in d.reason
    assert not decide(30, 0.1, None).compiled
    # cached without a measured load time: WARM_COMPILE_S
    reason = decide(100, 0.1, Timing(cached=True)).reason
    assert reason.endswith(f"~{fastpath.WARM_COMPILE_S:.0f} s of compilation (assumed, inductor's cache holds this graph)")
    # a measured slow-down never compiles
    assert not decide(10**6, 1.0, Timing(eager_s=0.1, compiled_s=0.2, cached=True)).compiled


def test_no_compiler_or_the_switch_keeps_auto_eager(monkeypatch) -> None:
    d = decide(10**6, 1.0, None, unavailable="no C++ compiler found")
    assert not d.compiled and d.reason == "no C++ compiler found"
    monkeypatch.setenv(fastpath.AUTO_ENV, "off")
    assert "automatic compilation is off" in (fastpath.compile_unavailable(torch.device("cpu")) or "")
    monkeypatch.delenv(fastpath.AUTO_ENV)
    monkeypatch.setattr(fastpath.shutil, "which", lambda name: None)  # no compiler on the PATH
    assert "no C++ compiler" in (fastpath.compile_unavailable(torch.device("cpu")) or "")


def test_timings_file_merges_entries_and_ignores_garbage(tmp_path) -> None:
    path = tmp_path / "t.json"
    assert read_timing("k", path) is None
    write_timing("k", path, eager_s=0.2, name="a")
    write_timing("k", path, compiled_s=0.05, cached=True)
    write_timing("j", path, eager_s=1.0)
    assert read_timing("k", path) == Timing(eager_s=0.2, compiled_s=0.05, cached=True)
    path.write_text("{not json")
    assert read_timing("k", path) is None
    path.write_text(json.dumps({"format": fastpath.TIMINGS_FORMAT, "graphs": {"k": {"eager_s": -1, "cached": "yes"}}}))
    assert read_timing("k", path) == Timing()


def test_graph_key_ignores_what_does_not_change_the_graph() -> None:
    spec = run_preset("tutorial_point_mass")
    same = spec.with_updates({"train.seed": 3, "train.lr": 0.01, "train.n_iterations": 50, "loss.position": 2.0})
    assert graph_key(same) == graph_key(spec)
    assert graph_key(spec.with_updates({"train.batch_size": 64})) != graph_key(spec)
    assert graph_key(spec.with_updates({"policy.hidden_size": 16})) != graph_key(spec)


def test_every_preset_defaults_to_auto_and_long_ones_decide_to_compile() -> None:
    for name, make in RUN_PRESETS.items():
        spec = make()
        assert spec.train.compile == "auto", name
    # the figures of the tutorial on this kind of machine (eager ~0.1-0.3 s an iteration): compiled, cold
    assert decide(run_preset("tutorial_point_mass").train.n_iterations - 1, 0.1, None).compiled
    assert not decide(run_preset("tiny_point_mass").train.n_iterations - 1, 0.1, None).compiled
    assert SPEED_UP > 1 and COLD_COMPILE_S > 0


def test_a_short_auto_run_stays_eager_says_why_and_records_its_timing(cache, tmp_path) -> None:
    spec = run_preset("tiny_point_mass").with_updates({"train.n_iterations": 3, "train.eval_every": 3})
    trainer = Trainer(spec)
    assert trainer.compile_decision is None
    sink = ListSink()
    trainer.train(sink, checkpoint_path=tmp_path / "ck.pt")
    lines = [text for _, text in sink.logs if text.startswith("training path:")]
    assert len(lines) == 1 and lines[0].startswith("training path: eager steps (train.compile auto): 2 iterations left")
    assert "(this run's first)" in lines[0]
    assert not trainer.loop.compiled and trainer.loop.compiled_steps == 0
    timing = read_timing(graph_key(spec), cache)
    assert timing is not None and timing.eager_s is not None and not timing.cached
    # the next run of the graph decides before its first iteration, from that measurement
    again = Trainer(spec)
    again.train_step()
    assert again.compile_decision is not None and "(earlier runs)" in again.compile_decision.reason
    # eager auto is bit for bit the eager path
    eager = Trainer(spec.with_updates({"train.compile": False}))
    eager.train()
    assert eager.history == trainer.history
    # a resumed auto run keeps the path of the run it continues
    resumed = Trainer.from_checkpoint(tmp_path / "ck.pt", updates={"train.n_iterations": 100_000})
    decision = resumed.compile_decision
    assert decision is not None and not decision.compiled and "the path of the run it resumes (step 3)" in decision.reason


def test_explicit_settings_are_honoured_and_logged(cache) -> None:
    spec = run_preset("tiny_point_mass").with_updates({"train.n_iterations": 1, "train.compile": False})
    sink = ListSink()
    Trainer(spec).train(sink)
    assert ("info", "training path: eager steps (train.compile false): as set") in sink.logs
    compiled = Trainer(spec.with_updates({"train.compile": True}))
    assert compiled.loop.compiled and compiled.compile_decision is not None and compiled.compile_decision.compiled


@pytest.mark.slow
def test_a_warmed_graph_makes_auto_compile_from_the_first_iteration(cache, tmp_path) -> None:
    """warm() (the studio's idle warm-up) measures a long run's graph and compiles it into the cache;
    an "auto" run of that graph then compiles from its first iteration, from the cache's figures,
    records the load time, writes the path into its checkpoints, and a resumed run keeps it."""
    spec = run_preset("tiny_point_mass").with_updates({"train.n_iterations": 100_000, "train.eval_every": 2})
    timing = fastpath.warm(spec)
    assert timing is not None and timing.cached and timing.eager_s and timing.compiled_s and timing.cold_compile_s
    assert read_timing(graph_key(spec), cache) == timing and timing.warm_compile_s is None
    assert fastpath.warm(spec) == timing  # cached: skipped
    # this VM's timings are too noisy to decide a test with: a measured 10x and a 1 s eager iteration
    write_timing(graph_key(spec), cache, eager_s=1.0, compiled_s=0.1)
    run = spec.with_updates({"train.n_iterations": 2})
    sink = ListSink()
    trainer = Trainer(spec)  # a long run, stopped after 2 iterations
    trainer.train(sink, should_stop=lambda: trainer.step >= 2, checkpoint_path=tmp_path / "c.pt")
    lines = [text for _, text in sink.logs if text.startswith("training path:")]
    assert len(lines) == 1 and lines[0].startswith("training path: compiled chunks (train.compile auto): 100000 iterations")
    assert "10.0x faster (measured)" in lines[0] and "(earlier runs)" in lines[0]
    assert "inductor's cache holds this graph" in lines[0]
    assert trainer.loop.compiled_steps == 2 * trainer.env.n_steps
    after = read_timing(graph_key(spec), cache)
    assert after is not None and after.warm_compile_s is not None  # the load from the cache, measured
    eager = Trainer(run.with_updates({"train.compile": False}))
    eager.train()
    assert trainer.history == pytest.approx(eager.history, rel=1e-5, abs=1e-7)
    assert torch.load(tmp_path / "c.pt", weights_only=True)["compiled"] is True
    resumed = Trainer.from_checkpoint(tmp_path / "c.pt", updates={"train.n_iterations": 5})
    assert resumed.loop.compiled and "the path of the run it resumes (step 2)" in resumed.compile_decision.reason

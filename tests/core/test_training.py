"""Trainer: reproducible loss curves, exact resume, checkpoints, divergence, sinks, evaluation."""

from __future__ import annotations

import json
import math

import pytest
import torch

from motornet_core.run_presets import run_preset
from motornet_core.specs import RunSpec
from motornet_core.training import ListSink, NullSink, Trainer, TrainingDiverged, TrainingSink, evaluate_policy, learning_rate


@pytest.fixture(autouse=True)
def _one_thread():
    """Small recurrent nets train fastest on one thread, and the CI machine is shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _spec(**train) -> RunSpec:
    base = run_preset("tiny_point_mass")
    updates = {"task.duration": 0.1, "train.batch_size": 4, "train.n_iterations": 6}
    updates.update({f"train.{k}": v for k, v in train.items()})
    return base.with_updates(updates)


def test_same_spec_and_seed_give_identical_loss_curves() -> None:
    spec = _spec(n_iterations=4)
    a, b = Trainer(spec), Trainer(spec)
    a.train()
    b.train()
    assert a.history == b.history and len(a.history) == 4
    c = Trainer(spec.with_updates({"train.seed": 1}))
    c.train()
    assert c.history != a.history


def test_resume_continues_exactly(tmp_path) -> None:
    spec = _spec(n_iterations=6, checkpoint_every=3)
    full = Trainer(spec)
    full.train()
    first = Trainer(spec)
    calls = iter(range(100))
    first.train(should_stop=lambda: next(calls) >= 3, checkpoint_path=tmp_path / "ck.pt")
    assert first.step == 3
    resumed = Trainer.from_checkpoint(tmp_path / "ck.pt")
    assert resumed.step == 3 and resumed.history == full.history[:3]
    summary = resumed.train()
    assert summary.step == 6 and summary.iterations == 3
    assert resumed.history == full.history  # bit-identical continuation
    for p, q in zip(resumed.policy.parameters(), full.policy.parameters()):
        assert torch.equal(p, q)


def test_checkpoint_is_weights_only_loadable(tmp_path) -> None:
    trainer = Trainer(_spec(n_iterations=2))
    sink = ListSink()
    trainer.train(sink, checkpoint_path=tmp_path / "run" / "ck.pt")
    payload = torch.load(tmp_path / "run" / "ck.pt", weights_only=True)
    assert {"spec", "policy", "optimizer", "step", "generator", "history"} <= set(payload)
    assert RunSpec.parse(payload["spec"]) == trainer.spec and payload["step"] == 2
    assert sink.checkpoints == [(2, str(tmp_path / "run" / "ck.pt"))]
    assert not [p for p in (tmp_path / "run").iterdir() if p.name != "ck.pt"]  # no temporary left behind


def test_sink_receives_metrics_snapshots_and_logs() -> None:
    sink = ListSink()
    summary = Trainer(_spec(n_iterations=5, eval_every=2)).train(sink)
    assert [s for s, _ in sink.metrics] == [1, 2, 3, 4, 5]
    keys = set(sink.metrics[0][1])
    assert keys == {"loss", "loss/position", "lr", "grad_norm"}
    assert sink.metrics[-1][1]["loss"] == pytest.approx(summary.loss)
    assert [s for s, _ in sink.snapshots] == [2, 4, 5]
    assert sink.logs and sink.logs[0][0] == "info"
    assert isinstance(sink, TrainingSink) and isinstance(NullSink(), TrainingSink)
    assert summary.step == 5 and summary.seconds > 0 and not summary.stopped


def test_snapshot_format_is_small_json() -> None:
    spec = run_preset("tiny_arm26").with_updates({"task.duration": 1.5, "policy.hidden_size": 80, "train.n_iterations": 1})
    trainer = Trainer(spec)
    snap = trainer.evaluate()
    json.dumps(snap.to_dict())
    B, T = 8, len(snap["time"])  # centre-out evaluation: every target
    assert T == 100 and snap["time"][0] == 0 and snap["time"][-1] == pytest.approx(1.5)
    assert len(snap["targets"]) == B and len(snap["hand"]) == B and len(snap["hand"][0]) == T
    assert len(snap["joints"][0][0]) == 3 and snap["joints"][0][0][0] == [0.0, 0.0]  # shoulder, elbow, fingertip
    assert snap["joints"][0][-1][-1] == snap["hand"][0][-1]
    assert len(snap["activation"][0][0]) == 6 and snap["muscle_names"][0] == "pectoralis"
    assert len(snap["hidden"][0][0]) == 64
    assert snap["effector_kind"] == "arm" and snap["dt"] == 0.01
    assert snap["mean_endpoint_error"] == pytest.approx(sum(snap["endpoint_error"]) / B, abs=1e-5)
    targets = torch.tensor(snap["targets"])
    assert torch.allclose((targets - targets.mean(0)).norm(dim=1), torch.tensor(0.1), atol=1e-4)
    pm = Trainer(_spec()).evaluate()
    assert pm["effector_kind"] == "point_mass" and len(pm["joints"][0][0]) == 1 and len(pm["hand"]) == 4


def test_nan_raises_training_diverged() -> None:
    trainer = Trainer(_spec())
    with torch.no_grad():
        trainer.policy.readout.bias.fill_(float("nan"))
    sink = ListSink()
    with pytest.raises(TrainingDiverged) as err:
        trainer.train(sink)
    assert err.value.step == 1 and "nan" in str(err.value).lower()
    assert sink.logs[-1][0] == "error"


def test_should_stop_is_polled_every_iteration() -> None:
    polls = []
    trainer = Trainer(_spec(n_iterations=50))

    def stop() -> bool:
        polls.append(trainer.step)
        return len(polls) > 2

    summary = trainer.train(should_stop=stop)
    assert polls == [0, 1, 2] and summary.stopped and summary.step == 2


class _EventSink(NullSink):
    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def on_metric(self, step: int, values: dict[str, float]) -> None:
        self.events.append(("metric", step))

    def on_checkpoint(self, step: int, path: str) -> None:
        self.events.append(("checkpoint", step))


def test_an_iteration_that_completes_after_a_stop_request_is_checkpointed_before_it_is_reported(tmp_path) -> None:
    """A stopping worker may be terminated any moment after its grace: the iteration that was running
    when the stop came must not be shown (its metric) before it is kept (its checkpoint), or a resume
    retrains a step the run showed (CI: checkpoint 1, step 2)."""
    sink = _EventSink()
    trainer = Trainer(_spec(n_iterations=50, checkpoint_every=1000, eval_every=1000))
    summary = trainer.train(sink, should_stop=lambda: trainer.step >= 2, checkpoint_path=tmp_path / "ck.pt")
    assert summary.stopped and summary.step == 2
    assert sink.events.index(("checkpoint", 2)) < sink.events.index(("metric", 2)), sink.events
    assert sink.events.count(("checkpoint", 2)) == 1


def test_evaluate_policy_reaches_given_targets(tmp_path) -> None:
    trainer = Trainer(_spec(n_iterations=1))
    trainer.train(checkpoint_path=tmp_path / "ck.pt")
    targets = [[0.1, 0.0], [0.0, -0.2]]
    snap = evaluate_policy(trainer.spec, trainer.policy.state_dict(), targets=targets)
    assert snap["targets"] == targets and len(snap["hand"]) == 2
    assert snap["hand"][0][0] == [0.0, 0.0]  # from the middle of the point mass's workspace
    payload = torch.load(tmp_path / "ck.pt", weights_only=True)
    again = evaluate_policy(payload["spec"], payload)
    assert again["step"] == 1 and again == trainer.evaluate()


def test_learning_rate_schedules() -> None:
    spec = _spec(n_iterations=100, lr=0.01, lr_schedule="step", lr_step_every=10, lr_step_gamma=0.5)
    assert learning_rate(spec, 0) == 0.01 and learning_rate(spec, 25) == pytest.approx(0.0025)
    cos = _spec(n_iterations=100, lr=0.01, lr_schedule="cosine", lr_min=0.001)
    assert learning_rate(cos, 0) == pytest.approx(0.01)
    assert learning_rate(cos, 50) == pytest.approx(0.0055)
    assert learning_rate(cos, 100) == pytest.approx(0.001)
    sink = ListSink()
    Trainer(_spec(n_iterations=3, lr=0.01, lr_schedule="step", lr_step_every=2, lr_step_gamma=0.1)).train(sink)
    assert [round(v["lr"], 6) for _, v in sink.metrics] == [0.01, 0.01, 0.001]


def test_training_reduces_the_loss() -> None:
    spec = _spec(n_iterations=25, lr=0.01, batch_size=8).with_updates(
        {"task": {"kind": "centre_out", "n_targets": 4, "radius": 0.2, "duration": 0.3}, "policy.hidden_size": 16}
    )
    trainer = Trainer(spec)
    before = trainer.evaluate()["mean_endpoint_error"]
    trainer.train()
    after = trainer.evaluate()["mean_endpoint_error"]
    last = sum(trainer.history[-5:]) / 5
    assert math.isfinite(last) and last < 0.8 * trainer.history[0]
    assert after < 0.5 * before


@pytest.mark.slow
def test_compiled_steps_match_eager_mode(tmp_path) -> None:
    spec = _spec(n_iterations=3, eval_every=3)
    eager = Trainer(spec)
    eager.train()
    compiled = Trainer(spec.with_updates({"train.compile": True}))
    compiled.train(checkpoint_path=tmp_path / "c.pt")
    assert compiled.history == pytest.approx(eager.history, rel=1e-5, abs=1e-7)
    # the modules are not wrapped: checkpoints load into an eager trainer
    resumed = Trainer.from_checkpoint(tmp_path / "c.pt")
    assert resumed.policy.state_dict().keys() == eager.policy.state_dict().keys()
    assert resumed.step == 3


def _checkpoint_with_generator(tmp_path, state: torch.Tensor, device: str | None):
    trainer = Trainer(_spec(n_iterations=2))
    trainer.train(checkpoint_path=tmp_path / "ck.pt")
    payload = torch.load(tmp_path / "ck.pt", weights_only=True)
    assert payload["generator_device"] == "cpu"
    payload["generator"] = state
    if device is None:
        del payload["generator_device"]  # a checkpoint written before the key existed
    else:
        payload["generator_device"] = device
    torch.save(payload, tmp_path / "other.pt")
    return tmp_path / "other.pt"


def test_resume_of_a_checkpoint_from_another_device_reseeds_with_a_warning(tmp_path, caplog) -> None:
    from motornet_core.training import loop

    cuda_state = torch.zeros(16, dtype=torch.uint8)  # a CUDA (Philox) generator's state: seed and offset
    for device in ("cuda", None):
        path = _checkpoint_with_generator(tmp_path, cuda_state, device)
        with caplog.at_level("WARNING", logger=loop.__name__):
            a = Trainer.from_checkpoint(path, device="cpu", updates={"train.n_iterations": 4})
        assert "written on cuda" in caplog.text and "random stream differs" in caplog.text
        caplog.clear()
        b = Trainer.from_checkpoint(path, device="cpu", updates={"train.n_iterations": 4})
        a.train()
        b.train()
        assert a.step == 4 and a.history == b.history  # reproducible all the same


def test_a_generator_state_of_the_wrong_kind_is_a_clear_error(tmp_path, capsys) -> None:
    from motornet_core.errors import MotornetError
    from motornet_core.training.cli import main

    path = _checkpoint_with_generator(tmp_path, torch.zeros(100, dtype=torch.uint8), "cpu")
    with pytest.raises(MotornetError, match="random-generator state"):
        Trainer.from_checkpoint(path)
    out = tmp_path / "run"
    out.mkdir()
    path.rename(out / "checkpoint.pt")
    assert main(["--resume", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "random-generator state" in err and "Traceback" not in err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_generators_drive_resets_and_training() -> None:
    from motornet_core import build_effector, presets
    from motornet_core.envs import MotorEnv

    eff = build_effector(presets.arm26()).to("cuda")
    state = eff.reset(4, generator=torch.Generator(device="cuda").manual_seed(0))
    assert state.position.device.type == "cuda"
    env = MotorEnv(eff, {"kind": "random_reach", "duration": 0.05})
    env.reset(seed=0)
    env.step(env.action_space.sample())
    trainer = Trainer(_spec(n_iterations=2, device="cuda"))
    trainer.train()
    assert trainer.generator.device.type == "cuda"


def test_read_checkpoint_gives_step_history_and_loss_rows_and_refuses_forged_numbers(tmp_path) -> None:
    from motornet_core.errors import MotornetError
    from motornet_core.training import read_checkpoint

    trainer = Trainer(_spec(n_iterations=3))
    trainer.train()
    path = tmp_path / "ck.pt"
    trainer.save_checkpoint(path)
    info = read_checkpoint(path)
    assert info.step == 3 and info.history == trainer.history
    assert info.loss_rows() == [(k, v) for k, v in enumerate(trainer.history, start=1)]
    payload = torch.load(path, weights_only=True)
    for forged in ({"step": -5}, {"step": 10**30}, {"step": 2.5}, {"step": 7}, {"history": ["x", 1.0, 2.0]}):
        torch.save({**payload, **forged}, tmp_path / "bad.pt")
        with pytest.raises(MotornetError):
            read_checkpoint(tmp_path / "bad.pt")
        with pytest.raises(MotornetError):
            Trainer.from_checkpoint(tmp_path / "bad.pt")

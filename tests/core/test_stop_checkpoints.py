"""Checkpoints that keep the work of a stopped or crashed run: one written from another thread while an
iteration runs (a worker asked to stop) holds the last completed iteration and resumes exactly, and the
checkpoint interval is also a time budget (``train.checkpoint_seconds``)."""

from __future__ import annotations

import threading
import time

import pytest
import torch

import motornet_core.training.loop as loop_module
from motornet_core.run_presets import run_preset
from motornet_core.specs import RunSpec
from motornet_core.training import ListSink, Trainer
from motornet_core.training.loop import CheckpointClock


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _spec(**train) -> RunSpec:
    updates = {"task.duration": 0.1, "train.batch_size": 4, "train.n_iterations": 6, "train.checkpoint_every": 1000}
    updates.update({f"train.{k}": v for k, v in train.items()})
    return run_preset("tiny_point_mass").with_updates(updates)


def test_a_checkpoint_written_during_an_iteration_holds_the_last_completed_one(tmp_path, monkeypatch) -> None:
    spec = _spec()
    twin = Trainer(spec)  # trained without interruption: its checkpoint after 3 steps is the reference
    for _ in range(3):
        twin.train_step()
    twin.save_checkpoint(tmp_path / "reference.pt")
    expected = [twin.train_step()["loss"] for _ in range(2)]

    trainer = Trainer(spec)
    for _ in range(3):
        trainer.train_step()
    inside, written = threading.Event(), threading.Event()
    real_loss = loop_module.compute_loss

    def slow_loss(loss_spec, traj):  # the 4th iteration: its rollout has drawn from the generator already
        inside.set()
        assert written.wait(30), "the checkpoint thread did not finish"
        return real_loss(loss_spec, traj)

    monkeypatch.setattr(loop_module, "compute_loss", slow_loss)
    sink = ListSink()

    def stop_request() -> None:  # what a worker's stop watcher does
        assert inside.wait(30)
        trainer.checkpoint_completed(tmp_path / "stop.pt", sink)
        written.set()

    thread = threading.Thread(target=stop_request)
    thread.start()
    trainer.train_step()  # iteration 4 goes on meanwhile and completes
    thread.join(30)
    monkeypatch.setattr(loop_module, "compute_loss", real_loss)
    assert trainer.step == 4
    assert [step for step, _ in sink.checkpoints] == [3]

    stopped = torch.load(tmp_path / "stop.pt", weights_only=True)
    reference = torch.load(tmp_path / "reference.pt", weights_only=True)
    assert stopped["step"] == 3 and stopped["history"] == reference["history"]
    assert torch.equal(stopped["generator"], reference["generator"])
    for key, value in reference["policy"].items():
        assert torch.equal(stopped["policy"][key], value), key
    resumed = Trainer.from_checkpoint(tmp_path / "stop.pt")
    assert [resumed.train_step()["loss"] for _ in range(2)] == expected  # nothing lost, nothing repeated differently


def test_checkpoint_clock_counts_iterations_and_seconds() -> None:
    now = [0.0]
    clock = CheckpointClock(every=5, seconds=20.0, clock=lambda: now[0])
    due = []
    for step in range(1, 13):
        now[0] += 7.0  # 7 s an iteration
        if clock(step):
            due.append(step)
    # 20 s of training after step 3 (21 s) and step 8 (21 s after step 5); every 5th iteration
    assert due == [3, 5, 8, 10]
    now[0] += 40.0
    assert clock(13)


class _SlowSink(ListSink):
    """Reports take 1.1 s at step 2: training time that the time budget counts."""

    def on_metric(self, step: int, values: dict[str, float]) -> None:
        super().on_metric(step, values)
        if step == 2:
            time.sleep(1.1)


def test_training_checkpoints_after_checkpoint_seconds_of_training(tmp_path) -> None:
    sink = _SlowSink()
    Trainer(_spec(n_iterations=4, checkpoint_seconds=1.0)).train(sink=sink, checkpoint_path=tmp_path / "c.pt")
    assert [step for step, _ in sink.checkpoints] == [2, 4]  # 2: over one second of training
    default = Trainer(_spec(n_iterations=4)).spec.train
    assert default.checkpoint_seconds == 30.0 and default.checkpoint_every == 1000

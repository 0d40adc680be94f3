"""The group job in-process: an experiment condition's members trained as one ensemble, each reported as its own run."""

from __future__ import annotations

import threading

import pytest

from backend.app.status import RunStatus
from backend.app.workers.group_job import run_group_job
from backend.app.workers.protocol import CheckpointMsg, GroupMember, JobSpec, MetricMsg, StatusMsg
from motornet_core.run_presets import run_preset
from motornet_core.training import Trainer


class ListQueue:
    def __init__(self) -> None:
        self.items: list = []

    def put(self, message) -> None:
        self.items.append(message)


def _specs(n: int = 6):
    base = run_preset("tiny_point_mass").with_updates({"train.n_iterations": n, "train.checkpoint_every": 2})
    return [base.with_updates({"train.seed": s}) for s in (0, 1)]


def _job(specs, paths, resume: bool) -> JobSpec:
    members = tuple(
        GroupMember(i + 1, s.model_dump(mode="json"), str(p), str(p) if resume else None)
        for i, (s, p) in enumerate(zip(specs, paths, strict=True))
    )
    return JobSpec(1, members[0].spec, members[0].checkpoint_path, members=members)


def test_members_whose_checkpoints_stand_at_different_steps_each_train_to_the_end(tmp_path):
    specs = _specs()
    paths = [tmp_path / "a.pt", tmp_path / "b.pt"]
    for spec, path, stop in zip(specs, paths, (4, 2), strict=True):  # a server killed between two checkpoint writes
        t = Trainer(spec)
        t.train(should_stop=lambda t=t, stop=stop: t.step >= stop, checkpoint_path=path)
    queue = ListQueue()
    run_group_job(_job(specs, paths, resume=True), queue, threading.Event())
    ends = {m.run_id: m for m in queue.items if isinstance(m, StatusMsg) and m.status != RunStatus.RUNNING}
    assert {rid: m.status for rid, m in ends.items()} == {1: RunStatus.FINISHED, 2: RunStatus.FINISHED}
    steps = {rid: [m.step for m in queue.items if isinstance(m, MetricMsg) and m.run_id == rid] for rid in (1, 2)}
    assert steps == {1: [5, 6], 2: [3, 4, 5, 6]}
    assert {m.run_id for m in queue.items if isinstance(m, CheckpointMsg) and m.step == 6} == {1, 2}
    for rid, spec in zip((1, 2), specs, strict=True):  # each continues exactly as its single run does
        single = Trainer(spec)
        single.train()
        losses = [m.values["loss"] for m in queue.items if isinstance(m, MetricMsg) and m.run_id == rid]
        assert losses == pytest.approx(single.history[-len(losses) :], rel=1e-4, abs=1e-6)


def test_a_group_stopped_before_it_starts_reports_every_member_cancelled(tmp_path):
    specs = _specs()
    stop = threading.Event()
    stop.set()
    queue = ListQueue()
    run_group_job(_job(specs, [tmp_path / "a.pt", tmp_path / "b.pt"], resume=False), queue, stop)
    ends = [(m.run_id, m.status) for m in queue.items if isinstance(m, StatusMsg) and m.status != RunStatus.RUNNING]
    assert sorted(ends) == [(1, RunStatus.CANCELLED), (2, RunStatus.CANCELLED)]


def test_a_bad_member_spec_fails_every_member_with_the_reason(tmp_path):
    specs = _specs()
    job = _job(specs, [tmp_path / "a.pt", tmp_path / "b.pt"], resume=False)
    bad = JobSpec(1, job.spec, job.checkpoint_path, members=(job.members[0], GroupMember(2, {"nope": 1}, "x.pt")))
    queue = ListQueue()
    run_group_job(bad, queue, threading.Event())
    ends = [m for m in queue.items if isinstance(m, StatusMsg)]
    assert sorted((m.run_id, m.status) for m in ends) == [(1, RunStatus.FAILED), (2, RunStatus.FAILED)]
    assert all(m.error for m in ends)


def test_a_stop_during_an_iteration_checkpoints_every_member_at_once(tmp_path, monkeypatch):
    """The stop comes while iteration 2 runs: before that iteration ends, every member's checkpoint of
    iteration 1 is written (the worker may be killed before the loop reaches its own)."""
    import time

    import motornet_core.training.ensemble as ensemble_module

    specs = [s.with_updates({"train.checkpoint_every": 1000}) for s in _specs(4)]
    paths = [tmp_path / "a.pt", tmp_path / "b.pt"]
    queue, stop = ListQueue(), threading.Event()
    real_loss, calls, seen = ensemble_module.compute_loss, [0], {}

    def loss_during_a_stop(loss_spec, traj):
        calls[0] += 1
        if calls[0] == 3:  # iteration 2 (one call per replicate)
            stop.set()
            deadline = time.monotonic() + 20
            while len({m.run_id for m in queue.items if isinstance(m, CheckpointMsg) and m.step == 1}) < 2:
                assert time.monotonic() < deadline, "no member was checkpointed while the iteration ran"
                time.sleep(0.01)
            seen.update({m.run_id: m.step for m in queue.items if isinstance(m, CheckpointMsg)})
        return real_loss(loss_spec, traj)

    monkeypatch.setattr(ensemble_module, "compute_loss", loss_during_a_stop)
    run_group_job(_job(specs, paths, resume=False), queue, stop)
    assert seen == {1: 1, 2: 1}
    for rid, path in zip((1, 2), paths, strict=True):  # the loop's own checkpoint at the stop follows
        assert [m.step for m in queue.items if isinstance(m, CheckpointMsg) and m.run_id == rid] == [1, 2]
        assert Trainer.from_checkpoint(path).step == 2

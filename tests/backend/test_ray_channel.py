"""The Ray executor's channel actor class on its own (its Ray transport: test_ray_executor.py)."""

from __future__ import annotations

from backend.app.workers.ray_channel import ChannelActor


def test_jobs_are_kept_apart_by_key_and_drained_oldest_first() -> None:
    c = ChannelActor()
    assert c.put("1.1", b"a") is False and c.put("2.2", b"x") is False and c.put("1.1", b"b") is False
    assert c.drain("1.1", 1) == ([b"a"], True)
    assert c.drain("1.1", 5) == ([b"b"], False)
    assert c.drain("2.2", 5) == ([b"x"], False)
    assert c.drain("3.3", 5) == ([], False)  # a job that sent nothing yet


def test_stop_reaches_only_its_job_even_before_its_first_send() -> None:
    c = ChannelActor()
    c.stop("1.1")  # cancelled while its worker was still starting
    assert c.put("1.1", b"a") is True
    assert c.put("2.1", b"b") is False


def test_a_closed_job_stays_closed_and_its_late_sends_are_dropped() -> None:
    c = ChannelActor()
    c.put("1.1", b"a")
    c.close("1.1")
    assert c.put("1.1", b"late") is True  # its worker is told to stop
    assert c.drain("1.1", 5) == ([], False)
    assert "1.1" not in c.jobs
    assert c.put("1.2", b"resumed") is False  # the same run started again: a new key

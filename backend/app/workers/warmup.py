"""Idle warm-up: while the studio has no work, compile the training presets' chunks into inductor's cache.

A run with ``train.compile: "auto"`` that finds its graph in inductor's on-disk cache loads it in a
few seconds instead of compiling for ~20 s (``motornet_core.training.fastpath``), so the first
tutorial run of a fresh studio starts fast. The warm-up is one spawned process at the lowest CPU
priority (``nice`` 19) and compiles in-process (no compile pool); the manager starts it only after
``settings.warmup_idle_s`` seconds with nothing queued or running, and kills it (its whole process
group, g++ included) the moment work arrives: it never competes with a job. Graphs already recorded
as cached are skipped, so an interrupted warm-up continues where it was stopped the next time the
studio is idle; once every preset is done it does not start again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

log = logging.getLogger(__name__)


def warm_presets(names: Sequence[str] | None = None) -> None:
    """Child-process entry: :func:`motornet_core.training.fastpath.warm` each training preset in turn.

    Args:
        names: run preset names (default: every run preset).
    """
    import torch

    from motornet_core import prefer_scalar_cpu_kernels
    from motornet_core.run_presets import RUN_PRESETS, run_preset
    from motornet_core.training.fastpath import warm

    torch.set_num_threads(1)
    torch._inductor.config.compile_threads = 1  # no compile pool: one process to stop
    prefer_scalar_cpu_kernels()  # the kernels training workers compile (the cache key includes it)
    from motornet_core import native

    native.available()  # builds the native eager kernels into their cache first (well under a second)
    for name in names if names is not None else list(RUN_PRESETS):
        t0 = time.perf_counter()
        timing = warm(run_preset(name))
        log.info("warm-up of %s: %s (%.1f s)", name, timing, time.perf_counter() - t0)


def in_background(target: Callable[..., None], *args: Any) -> None:
    """The warm-up process: its own process group (which :meth:`IdleWarmUp.stop` kills, compilers
    included), the lowest CPU priority, then ``target(*args)``."""
    with contextlib.suppress(OSError):
        os.setpgrp()
    with contextlib.suppress(OSError):
        os.nice(19)
    target(*args)


class IdleWarmUp:
    """Runs :func:`warm_presets` in the background while the manager has nothing to do.

    Args:
        ctx: the multiprocessing context to spawn with.
        enabled: ``settings.warmup``.
        idle_s: seconds of idleness before it starts.
        target: the child's function (tests may pass a stand-in).
    """

    def __init__(
        self, ctx: Any, enabled: bool, idle_s: float, target: Callable[..., None] = warm_presets, args: tuple = ()
    ) -> None:
        self.ctx, self.enabled, self.idle_s = ctx, enabled, idle_s
        self.target, self.args = target, args
        self.process: Any = None
        self.done = False
        self.starts = 0
        self._idle_since: float | None = None

    @property
    def running(self) -> bool:
        """Whether the warm-up process is alive."""
        return self.process is not None and self.process.is_alive()

    def tick(self, busy: bool) -> None:
        """Called by the manager thread each iteration: stop on work, start after ``idle_s`` of none."""
        if busy:
            self._idle_since = None
            self.stop()
            return
        if not self.enabled or self.done:
            return
        if self.process is not None and not self.process.is_alive():
            code = self.process.exitcode
            self.process.join(0)
            self.process = None
            self.done = True  # finished, or failed (then not retried: logged)
            (log.info if code == 0 else log.warning)("idle warm-up ended with exit code %s", code)
            return
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
        if self.process is None and now - self._idle_since >= self.idle_s:
            self.process = self.ctx.Process(
                target=in_background, args=(self.target, *self.args), name="motornet-warmup", daemon=True
            )
            self.process.start()
            self.starts += 1
            log.info("idle warm-up started (pid %d)", self.process.pid)

    def stop(self) -> None:
        """Kill the warm-up's process group now (it resumes, skipping what it finished, when idle again)."""
        proc, self.process = self.process, None
        if proc is None:
            return
        if proc.is_alive():
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)  # its own group (setpgrp), compilers included
            with contextlib.suppress(OSError):
                proc.kill()  # before its setpgrp, the group is not its own yet
            log.info("idle warm-up stopped: work arrived")
        proc.join(2.0)
        with contextlib.suppress(ValueError):
            proc.close()

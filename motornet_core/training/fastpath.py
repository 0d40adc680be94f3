"""When compiled chunks pay: the ``train.compile: "auto"`` decision and the timings it reads.

A run with ``train.compile: "auto"`` (the default) compiles its training chunks when the time they
save over the iterations left exceeds the compilation's cost::

    remaining x eager_s x (1 - 1 / speed_up)  >  compile_s

``eager_s`` is the run's own first (eager) iteration, or what an earlier run of the same graph
measured; ``speed_up`` and ``compile_s`` come from earlier runs of that graph in this inductor cache
(:func:`timings_path`, written by every run that compiled and by the studio's idle warm-up), else
from :data:`SPEED_UP` and :data:`COLD_COMPILE_S` / :data:`WARM_COMPILE_S`. A graph that has been
compiled into the current cache loads from it in a few seconds, so a warmed-up studio compiles
even runs of a few dozen iterations. ``True`` and ``False`` are honoured as given.

``auto`` never compiles where :func:`compile_unavailable` says it cannot (no C++ compiler, or
:data:`AUTO_ENV` set to 0). The graph of a run is determined by its effector, task, policy, batch size and replicates
(:func:`graph_key`); seeds, learning rates, loss weights and iteration counts share one graph.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from motornet_core.specs.run import RunSpec

log = logging.getLogger(__name__)

COLD_COMPILE_S = 25.0
"""Seconds a cold compilation of a 4-step training chunk is assumed to take (tutorial: 19-23 s on a 2-core VM)."""
WARM_COMPILE_S = 4.0
"""Seconds the same graph takes to load from inductor's on-disk cache (~3 s measured)."""
MIN_COMPILE_S = 1.0
"""The least a compiled chunk is assumed to cost even from the cache (dynamo traces it anew in every process)."""
SPEED_UP = 2.0
"""Compiled over eager iterations per second assumed without a measurement (tutorial, 2026-12-07: 1.5-2.6x
over the native eager kernels; 3.0-3.9x over the Python kernels before them)."""
EAGER_PATH_VERSION = 3
"""Bumped when the eager path gets faster (2: native kernels; 3: arm26.c's vector blocks), so that
earlier runs' eager timings (:func:`graph_key`) are not read as today's."""
TIMINGS_FORMAT = "motornet_core.timings/1"
AUTO_ENV = "MOTORNET_CORE_AUTO_COMPILE"
"""Set to 0 (or false/off/no) and ``auto`` never compiles (explicit ``true`` still does): for machines
whose compiler toolchain is unreliable, or test suites whose long runs exist only to be cancelled."""

Requested = bool | Literal["auto"]


def graph_key(spec: RunSpec) -> str:
    """A short hash of what shapes a run's compiled training chunk: effector, task, policy, batch
    size, replicates and device, plus the torch version and which eager path this machine runs
    (:data:`EAGER_PATH_VERSION`, native kernels or not: the eager timings depend on it) (16 hex digits)."""
    from motornet_core import kernels, native

    t = spec.train
    parts = {
        "effector": spec.effector.model_dump(mode="json"),
        "task": spec.task.model_dump(mode="json"),
        "policy": spec.policy.model_dump(mode="json"),
        "batch_size": t.batch_size,
        "replicates": t.replicates,
        "device": t.device,
        "torch": torch.__version__,
        "eager_path": [EAGER_PATH_VERSION, kernels.ENABLED, native.available()],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def timings_path() -> Path:
    """The timings file of the current inductor cache (``$TORCHINDUCTOR_CACHE_DIR``, default
    ``/tmp/torchinductor_$USER``): it lives and goes with the compiled graphs it describes."""
    from torch._inductor.runtime.cache_dir_utils import cache_dir

    return Path(cache_dir()) / "motornet_core" / "timings.json"


@dataclass(frozen=True)
class Timing:
    """What earlier runs measured for one graph in this cache (seconds; None: not measured).

    Attributes:
        eager_s: one eager training iteration.
        compiled_s: one compiled training iteration (compilation excluded).
        cold_compile_s: the first compilation of the graph into this cache.
        warm_compile_s: a later one (loaded from the cache).
        cached: the graph has been compiled into this cache.
    """

    eager_s: float | None = None
    compiled_s: float | None = None
    cold_compile_s: float | None = None
    warm_compile_s: float | None = None
    cached: bool = False


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as handle:
        try:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
        except ImportError:  # not POSIX: concurrent writers may lose an entry, never corrupt the file
            pass
        yield


def _read_all(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != TIMINGS_FORMAT or not isinstance(data.get("graphs"), dict):
        return {}
    return data["graphs"]


def read_timing(key: str, path: Path | None = None) -> Timing | None:
    """The measurements of graph ``key`` (None: none in this cache; an unreadable file counts as empty)."""
    entry = _read_all(path or timings_path()).get(key)
    if not isinstance(entry, dict):
        return None
    values: dict[str, Any] = {}
    for name in ("eager_s", "compiled_s", "cold_compile_s", "warm_compile_s"):
        v = entry.get(name)
        positive = name in ("eager_s", "compiled_s")  # per-iteration times; a compilation may measure 0
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and (v > 0 if positive else v >= 0)
        values[name] = float(v) if ok and v is not None else None
    return Timing(**values, cached=entry.get("cached") is True)


def write_timing(key: str, path: Path | None = None, **values: float | bool | str | None) -> None:
    """Merge ``values`` (the fields of :class:`Timing`, plus e.g. ``name``) into graph ``key``'s entry.

    Atomic (a temporary file and ``os.replace``) and serialised by a lock file; None values are skipped.
    """
    path = path or timings_path()
    with _locked(path):
        graphs = _read_all(path)
        old = graphs.get(key)
        entry: dict[str, Any] = dict(old) if isinstance(old, dict) else {}
        entry.update({k: v for k, v in values.items() if v is not None})
        graphs[key] = entry
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".timings.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"format": TIMINGS_FORMAT, "graphs": graphs}, out, indent=1, sort_keys=True)
        os.replace(tmp, path)


def compile_unavailable(device: torch.device) -> str | None:
    """Why ``auto`` must not compile for ``device`` here (None: it may): :data:`AUTO_ENV` is off, or
    ``torch.compile`` cannot build graphs here."""
    setting = os.environ.get(AUTO_ENV, "").strip().lower()
    if setting in ("0", "false", "off", "no"):
        return f"automatic compilation is off ({AUTO_ENV}={os.environ[AUTO_ENV]})"
    if not torch._dynamo.is_dynamo_supported():
        return "torch.compile does not support this Python"
    if device.type == "cpu":
        cxx = os.environ.get("CXX", "")
        if not any(shutil.which(c) for c in (cxx, "g++", "c++", "clang++") if c):
            return "no C++ compiler found (inductor builds CPU kernels with g++ or clang++)"
    elif device.type == "cuda":
        from torch.utils._triton import has_triton

        if not has_triton():
            return "triton is not installed (inductor's GPU kernels need it)"
    return None


@dataclass(frozen=True)
class CompileDecision:
    """Which path a run's training steps take, and why.

    Attributes:
        compiled: compiled chunks (else eager steps).
        reason: the figures or the setting behind it.
        requested: ``train.compile`` as given.
    """

    compiled: bool
    reason: str
    requested: Requested = "auto"

    def message(self) -> str:
        """The run log's line: ``"training path: compiled chunks (train.compile auto): ..."``."""
        path = "compiled chunks" if self.compiled else "eager steps"
        setting = "true" if self.requested is True else "false" if self.requested is False else "auto"
        return f"training path: {path} (train.compile {setting}): {self.reason}"


def decide(
    remaining: int,
    eager_s: float,
    timing: Timing | None,
    unavailable: str | None = None,
    eager_source: str = "measured",
) -> CompileDecision:
    """The ``auto`` decision for ``remaining`` iterations of ``eager_s`` seconds each (see the module).

    Args:
        timing: earlier measurements of this graph in this cache, or None.
        unavailable: why compilation is impossible here (:func:`compile_unavailable`), or None.
        eager_source: where ``eager_s`` comes from, for the message.
    """
    if unavailable is not None:
        return CompileDecision(False, unavailable)
    if remaining <= 0:
        return CompileDecision(False, "no iterations left")
    cached = timing is not None and timing.cached
    if cached:
        assert timing is not None
        # a load measured in a process that had just compiled the graph may read 0: never below 1 s
        if timing.warm_compile_s is not None:
            cost, cost_source = max(timing.warm_compile_s, MIN_COMPILE_S), "measured"
        else:
            cost, cost_source = WARM_COMPILE_S, "assumed"
        where = "inductor's cache holds this graph"
    else:
        cost, cost_source, where = COLD_COMPILE_S, "assumed", "cold cache"
    if timing is not None and timing.eager_s and timing.compiled_s:
        speed_up, speed_source = timing.eager_s / timing.compiled_s, "measured"
    else:
        speed_up, speed_source = SPEED_UP, "assumed"
    saving = remaining * eager_s * (1.0 - 1.0 / speed_up) if speed_up > 1.0 else 0.0
    compiled = saving > cost
    reason = (
        f"{remaining} iterations left at {eager_s:.3g} s each eagerly ({eager_source}); compiled chunks "
        f"{speed_up:.1f}x faster ({speed_source}) would save ~{saving:.0f} s "
        f"{'>' if compiled else '<='} ~{cost:.0f} s of compilation ({cost_source}, {where})"
    )
    return CompileDecision(compiled, reason)


@dataclass
class AutoCompile:
    """One run's ``train.compile`` bookkeeping: the decision, and the timings it records afterwards.

    The trainer calls :meth:`before_step` and :meth:`after_step` around each iteration; when
    :attr:`decision` becomes compiled it switches its loop. :meth:`save` writes what was measured.
    """

    requested: Requested
    key: str
    device: torch.device
    name: str = ""
    path: Path | None = None
    decision: CompileDecision | None = None
    eager: list[float] = field(default_factory=list)
    compiled: list[float] = field(default_factory=list)
    _prior: Timing | None = None
    _read = False

    def __post_init__(self) -> None:
        if self.requested is True:
            self.decision = CompileDecision(True, "as set", True)
        elif self.requested is False:
            self.decision = CompileDecision(False, "as set", False)

    def prior(self) -> Timing | None:
        """This graph's earlier measurements (read once)."""
        if not self._read:
            self._read = True
            try:
                self._prior = read_timing(self.key, self.path)
            except OSError as exc:  # an unusable cache folder: decide from the defaults
                log.warning("cannot read compile timings: %s", exc)
        return self._prior

    def before_step(self, remaining: int) -> bool:
        """Decide now if an earlier run measured this graph's eager iteration; True: just decided."""
        if self.decision is not None:
            return False
        timing = self.prior()
        if timing is None or timing.eager_s is None:
            return False
        self.decision = decide(remaining, timing.eager_s, timing, compile_unavailable(self.device), "earlier runs")
        return True

    def after_step(self, seconds: float, remaining: int, was_compiled: bool) -> bool:
        """Note one iteration's ``seconds``; decide from it if still open. True: just decided."""
        (self.compiled if was_compiled else self.eager).append(seconds)
        if self.decision is not None:
            return False
        self.decision = decide(remaining, seconds, self.prior(), compile_unavailable(self.device), "this run's first")
        return True

    def save(self) -> None:
        """Record this run's measurements of its graph (needs at least two compiled iterations for
        the compiled figures: the first one includes the compilation)."""
        values: dict[str, float | bool | str | None] = {"name": self.name or None}
        if len(self.eager) >= 2:
            values["eager_s"] = statistics.median(self.eager[1:])  # the first pays one-off allocations
        elif self.eager:
            values["eager_s"] = self.eager[0]
        if self.compiled:
            values["cached"] = True
        if len(self.compiled) >= 2:
            per = statistics.median(self.compiled[1:])
            prior = self.prior()
            values["compiled_s"] = per
            which = "warm_compile_s" if prior is not None and prior.cached else "cold_compile_s"
            values[which] = max(self.compiled[0] - per, 0.0)
        if len(values) > 1:
            try:
                write_timing(self.key, self.path, **values)
            except OSError as exc:
                log.warning("cannot record compile timings: %s", exc)


def warm(spec: RunSpec, iterations: int = 3) -> Timing | None:
    """Measure ``spec``'s graph and, where its default run would compile, compile it into the cache.

    Runs ``iterations`` eager training iterations of a throw-away trainer (timed); if the run's
    length would pay for a compilation from a warm cache (:func:`decide`), ``iterations`` compiled
    ones (the first compiles the graph into inductor's on-disk cache; the load time from it is
    measured by the next run that compiles it). Records everything in :func:`timings_path`. A
    graph recorded as cached is skipped. For a process that compiles only training chunks: call
    :func:`motornet_core.prefer_scalar_cpu_kernels` first, as training workers do.

    Returns:
        the graph's timing afterwards (None: nothing could be recorded).
    """
    from motornet_core.training.loop import Trainer

    key = graph_key(spec)
    prior = read_timing(key)
    if prior is not None and prior.cached:
        return prior
    n = spec.train.n_iterations
    # explicit paths: these throw-away trainers never switch on their own
    eager = Trainer(spec.with_updates({"train.compile": False, "train.n_iterations": 10**6}))
    for _ in range(max(iterations, 2)):
        eager.train_step()
    eager.fast.save()
    measured = read_timing(key)
    eager_s = measured.eager_s if measured is not None and measured.eager_s else eager.fast.eager[-1]
    if not decide(n - 1, eager_s, Timing(cached=True), compile_unavailable(eager.device)).compiled:
        return measured
    compiled = Trainer(spec.with_updates({"train.compile": True, "train.n_iterations": 10**6}))
    for _ in range(max(iterations, 2)):
        compiled.train_step()
    compiled.fast.save()
    return read_timing(key)

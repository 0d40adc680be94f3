"""Open-loop simulation: an effector driven by given excitations, several steps per compiled call."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from motornet_core.effector import Effector
from motornet_core.state import EffectorState

DEFAULT_CHUNK = 4  # steps per compiled call (OpenLoop and the training ClosedLoop)

logger = logging.getLogger(__name__)


def compile_chunk(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``torch.compile`` for a chunk of steps (static shapes); loads the native kernels first (a graph of
    a large arm26 batch calls their C step, :data:`motornet_core.kernels.NATIVE_COMPILED_MIN_BATCH`)."""
    from motornet_core import native

    native.available()
    return torch.compile(fn, dynamic=False)


def prefer_scalar_cpu_kernels() -> bool:
    """Process-wide: inductor writes scalar C++ (no explicit SIMD) for every CPU graph compiled afterwards.

    For processes that compile only training chunks, such as the studio's training workers and
    ``motornet-studio train``. Our tensors are narrow (batch x 2..32): on a 2-core x86 VM a cold
    compilation of the tutorial's chunk took 19-23 s instead of 33-39 s and trained as fast or
    faster; forward-only simulation of large batches (1024 and more) ran up to 2x slower, so
    library users choose. CUDA graphs are not affected.

    Inductor reads the setting when it first lists the CPU's vector instruction sets, once per
    process: call this before anything is compiled. Returns whether it takes effect (False, with a
    warning, when the process has compiled a CPU graph already).
    """
    from torch._inductor import config, cpu_vec_isa

    listing = getattr(cpu_vec_isa.valid_vec_isa_list, "cache_info", None)
    if listing is not None and listing().currsize and cpu_vec_isa.valid_vec_isa_list():
        logger.warning("prefer_scalar_cpu_kernels: this process has compiled vectorised CPU code already; unchanged")
        return False
    config.cpp.vec_isa_ok = False
    return True


VECTOR_KERNEL_ROWS = 128
"""Rows (batch x replicates) from which compiled training keeps inductor's vectorised CPU kernels."""


def choose_cpu_kernels(rows: int) -> bool:
    """Process-wide, before anything compiles: scalar CPU kernels for narrow training graphs, inductor's
    vectorised default from :data:`VECTOR_KERNEL_ROWS` rows (batch x replicates) on.

    Scalar kernels compile faster and train as fast at the tutorial's 32 rows; at 256 rows (8
    replicates of batch 32) the vectorised kernels took about half the time per iteration on a 2-core
    x86 VM (profiled, ``benchmarks/experiment.py --compile``), for a longer first compilation.
    Returns whether scalar kernels were chosen (and took effect).
    """
    if rows >= VECTOR_KERNEL_ROWS:
        return False
    return prefer_scalar_cpu_kernels()


class Simulation:
    """The result of :meth:`OpenLoop.run` over T steps.

    The trajectories are joined from their per-chunk pieces when first read (then kept): a caller
    that only wants the final state, such as a loss on where the hand ends, pays for no copies of
    (B, T + 1, ...) tensors.

    Attributes:
        state: the final state.
        fingertip: (B, T + 1, 4) fingertip position [m] and velocity [m/s] at every time point.
        position: (B, T + 1, n) joint positions [rad] (point mass: [m]).
        activation: (B, T + 1, M) muscle activations.
    """

    def __init__(
        self, state: EffectorState, fingertip: Sequence[Tensor], position: Sequence[Tensor], activation: Sequence[Tensor]
    ) -> None:
        """``fingertip``, ``position``, ``activation``: pieces (B, t_i, ...) in time order, joined along dim 1."""
        self.state = state
        self._pieces = {"fingertip": list(fingertip), "position": list(position), "activation": list(activation)}

    def _joined(self, name: str) -> Tensor:
        pieces = self._pieces[name]
        if len(pieces) > 1:
            pieces[:] = [torch.cat(pieces, 1)]
        return pieces[0]

    @property
    def fingertip(self) -> Tensor:
        return self._joined("fingertip")

    @property
    def position(self) -> Tensor:
        return self._joined("position")

    @property
    def activation(self) -> Tensor:
        return self._joined("activation")


class OpenLoop:
    """Steps an effector through a sequence of excitations, ``chunk`` steps per ``torch.compile``'d call.

    The same physics as calling :meth:`Effector.step` T times (results agree to rounding, not bit for
    bit, when compiled), with one graph and one backward node per chunk instead of ~100 small
    operations per step. The last T mod ``chunk`` steps run eagerly. With gradients on, the initial
    state's tensors become leaves that require grad (:meth:`EffectorState.requiring_grad`: same
    values, nothing new upstream), so that every chunk has one requires_grad pattern; gradients and
    no gradients are two compiled variants.

    Args:
        effector: the effector to drive.
        compile: True: compile the chunk; False: the plain eager loop; None (the default): compiled
            chunks, except for runs with gradients where the effector has a native C step
            (:meth:`Effector.native_kernel`: the point mass and arm26 on the CPU), which run eagerly:
            there the eager step was faster than compiled chunks at every batch measured (64 to
            8192 rows, forward + backward, README "Performance"), and nothing waits for a compilation.
        chunk: steps per compiled call (more: less overhead per step, longer compilation: ~30 s
            for 4 steps of arm26 on a 2-core CPU, a few seconds from inductor's on-disk cache).
    """

    def __init__(self, effector: Effector, compile: bool | None = None, chunk: int = DEFAULT_CHUNK) -> None:
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        self.effector = effector
        self.chunk = chunk
        self._auto = compile is None
        self._compiled = compile_chunk(self._steps) if compile is not False else None

    def compiles(self, state: EffectorState, needs_grad: bool) -> bool:
        """Whether :meth:`run` from ``state`` takes compiled chunks (``needs_grad``: gradients wanted)."""
        if self._compiled is None:
            return False
        return not (self._auto and needs_grad and self.effector.native_kernel(state.position) is not None)

    def _steps(
        self, state: EffectorState, u: list[Tensor], endpoint: list[Tensor] | None, joint: list[Tensor] | None
    ) -> tuple[EffectorState, Tensor, Tensor, Tensor]:
        tips, positions, activations = [], [], []
        for k, excitation in enumerate(u):
            state = self.effector.step(
                state, excitation, None if endpoint is None else endpoint[k], None if joint is None else joint[k]
            )
            tips.append(state.fingertip)
            positions.append(state.position)
            activations.append(state.muscle.activation)
        return state, _along_time(tips), _along_time(positions), _along_time(activations)

    def run(
        self,
        state: EffectorState,
        excitations: Tensor | Sequence[Tensor],
        endpoint_loads: Tensor | Sequence[Tensor] | None = None,
        joint_loads: Tensor | Sequence[Tensor] | None = None,
    ) -> Simulation:
        """Run T steps from ``state``.

        Args:
            state: the initial state (B rows).
            excitations: (B, T, M) in [0, 1], or a sequence of T tensors (B, M).
            endpoint_loads: (B, T, 2) [N] at the fingertip, or T tensors (B, 2); None: no load.
            joint_loads: (B, T, n) [N m] joint torques, or T tensors (B, n); None: no load.
        """
        u = _per_step(excitations)
        endpoint = None if endpoint_loads is None else _per_step(endpoint_loads)
        joint = None if joint_loads is None else _per_step(joint_loads)
        for name, loads in (("endpoint_loads", endpoint), ("joint_loads", joint)):
            if loads is not None and len(loads) != len(u):
                raise ValueError(f"{name} has {len(loads)} steps, the excitations {len(u)}")
        inputs = [*u, *(endpoint or []), *(joint or []), *self.effector.parameters()]
        needs_grad = torch.is_grad_enabled() and any(t.requires_grad for t in inputs)
        n_steps, k = len(u), 0
        compiled = self._compiled if self.compiles(state, needs_grad) else None
        if needs_grad and compiled is not None:
            state = state.requiring_grad()  # chunks from the first step, one compiled variant
        tips, positions, activations = [state.fingertip[:, None]], [state.position[:, None]], [state.muscle.activation[:, None]]
        while k < n_steps:
            run, size = (compiled, self.chunk) if compiled and n_steps - k >= self.chunk else (self._steps, 1)
            window = slice(k, k + size)
            state, tip, position, activation = run(
                state, u[window], None if endpoint is None else endpoint[window], None if joint is None else joint[window]
            )
            tips.append(tip)
            positions.append(position)
            activations.append(activation)
            k += size
        return Simulation(state, tips, positions, activations)


def _along_time(xs: list[Tensor]) -> Tensor:
    """(B, t, ...) from t tensors (B, ...): a view for one step, else a stack."""
    return xs[0][:, None] if len(xs) == 1 else torch.stack(xs, 1)


def _per_step(x: Tensor | Sequence[Tensor]) -> list[Tensor]:
    """T tensors (B, ...) from a (B, T, ...) tensor (one backward node) or a sequence."""
    return list(x.unbind(1)) if isinstance(x, Tensor) else list(x)

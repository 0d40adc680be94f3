"""The native (C) eager kernels: built here, the same forward values as the Python kernels and the
generic graph, gradients checked against autograd in float64, and a fallback where they cannot build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import motornet_core.kernels as kernels
from motornet_core import build_effector, native, presets
from motornet_core.kernels import GRUCellFunction, NativePointMassReluStep, PointMassReluStep, apply_kernel
from motornet_core.run_presets import run_preset


def test_the_library_builds_on_this_machine() -> None:
    """CI machines have a C compiler (as inductor needs): the native path must be the one tested."""
    assert native.compiler() is not None
    assert native.available()
    assert native.library_path().exists()


def _point_mass_inputs(seed: int, dtype: torch.dtype, endpoint: bool, joint: bool, batch: int = 16):
    """Inputs that reach every clamp: excitations and activations outside [0, 1], positions past the
    walls (so the wall and its velocity pin act), large forces and random moment arms."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g, dtype=dtype)

    args = [
        r(batch, 2) * 2.4 - 1.2,
        (r(batch, 2) - 0.5) * 6,
        r(batch, 4) * 1.4 - 0.2,
        r(batch, 4) * 500,
        torch.randn(batch, 2, 4, generator=g, dtype=dtype),
        r(batch, 4) * 1.6 - 0.3,
        torch.randn(batch, 2, generator=g, dtype=dtype) * 20 if endpoint else None,
        torch.randn(batch, 2, generator=g, dtype=dtype) * 5 if joint else None,
    ]
    return [None if a is None else a.requires_grad_() for a in args]


@pytest.mark.parametrize("loads", [(False, False), (True, False), (False, True), (True, True)], ids=str)
def test_point_mass_native_step_equals_the_python_kernel(loads: tuple[bool, bool]) -> None:
    """Forward bit-identical (float32), gradients equal to rounding, with every output's gradient used."""
    eff = build_effector(presets.point_mass_24())
    assert kernels.point_mass_native_applies(eff)
    for seed in range(5):
        args = _point_mass_inputs(seed, torch.float32, *loads)
        ours = apply_kernel(NativePointMassReluStep, eff, 0.01, *args)
        theirs = apply_kernel(PointMassReluStep, eff, 0.01, *args)
        for a, b in zip(ours, theirs, strict=True):
            assert torch.equal(a, b)
        weights = [torch.randn_like(t) for t in theirs]
        inputs = [a for a in args if a is not None]
        g_ours = torch.autograd.grad(ours, inputs, weights)
        g_theirs = torch.autograd.grad(theirs, inputs, weights)
        for a, b in zip(g_ours, g_theirs, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6 * float(b.abs().max()))


def test_point_mass_native_step_with_some_gradients_absent() -> None:
    """Only the fingertip's gradient flows back (the others are None in the backward)."""
    eff = build_effector(presets.point_mass_24())
    args = _point_mass_inputs(7, torch.float32, True, False)
    inputs = [a for a in args if a is not None]
    tip_ours = apply_kernel(NativePointMassReluStep, eff, 0.01, *args)[-1]
    tip_theirs = apply_kernel(PointMassReluStep, eff, 0.01, *args)[-1]
    w = torch.randn_like(tip_ours)
    g_ours = torch.autograd.grad(tip_ours, inputs, w, allow_unused=True)
    g_theirs = torch.autograd.grad(tip_theirs, inputs, w, allow_unused=True)
    for a, b in zip(g_ours, g_theirs, strict=True):
        if b is None:  # the Python kernel gives None where no gradient reaches; the C one zeros
            assert a is None or not a.any()
        else:
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_point_mass_native_step_gradcheck() -> None:
    """Float64 gradients against finite differences, away from the clamps' kinks."""
    eff = build_effector(presets.point_mass_24()).to(torch.float64)
    g = torch.Generator().manual_seed(3)

    def r(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g, dtype=torch.float64)

    def n(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    args = [r(3, 2) * 0.5, r(3, 2) - 0.5, 0.1 + 0.8 * r(3, 4), 100 + 300 * r(3, 4), n(3, 2, 4)]
    args += [0.1 + 0.8 * r(3, 4), n(3, 2), n(3, 2)]
    args = [a.requires_grad_() for a in args]

    def fn(*a: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out: tuple[torch.Tensor, ...] = apply_kernel(NativePointMassReluStep, eff, 0.01, *a)
        return out

    assert torch.autograd.gradcheck(fn, args, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_point_mass_rollout_takes_the_native_kernel_and_matches_the_generic_graph() -> None:
    """A 60-step rollout with endpoint loads through Effector.step: bit-identical states, gradients to rounding."""
    eff = build_effector(presets.point_mass_24())
    g = torch.Generator().manual_seed(0)
    u = torch.rand(60, 8, 4, generator=g).requires_grad_()
    q0 = torch.rand(8, 2, generator=g) * 0.5

    def run() -> torch.Tensor:
        s = eff.reset(8, position=q0)
        out = []
        for k in range(60):
            s = eff.step(s, u[k] * 1.3 - 0.1, endpoint_load=torch.full((8, 2), 3.0))
            out.append(torch.cat([s.fingertip, s.muscle.force, s.geometry.length], -1))
        return torch.stack(out)

    fast = run()
    assert fast.grad_fn is not None
    g_fast = torch.autograd.grad(fast.sum(), u)[0]
    with kernels.generic_path():
        slow = run()
        g_slow = torch.autograd.grad(slow.sum(), u)[0]
    assert torch.equal(fast.detach(), slow.detach())
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-5, atol=1e-6 * float(g_slow.abs().max()))
    assert eff._point_mass_native is True  # the step took the C kernel


def test_gru_native_backward_gradcheck_and_equals_the_python_backward() -> None:
    cell = torch.nn.GRUCell(5, 7).double()
    g = torch.Generator().manual_seed(2)
    x = torch.randn(4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    h = torch.randn(4, 7, generator=g, dtype=torch.float64, requires_grad=True)
    params = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    assert torch.autograd.gradcheck(lambda *a: apply_kernel(GRUCellFunction, *a), (x, h, *params))
    w = torch.randn(4, 7, generator=g, dtype=torch.float64)
    ours = torch.autograd.grad(apply_kernel(GRUCellFunction, x, h, *params), (x, h, *params), w)
    with native.python_kernels():
        theirs = torch.autograd.grad(apply_kernel(GRUCellFunction, x, h, *params), (x, h, *params), w)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


_FALLBACK = """
import json, logging, sys, torch
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
from motornet_core import build_effector, native, presets
eff = build_effector(presets.point_mass_24())
u = torch.full((2, 4), 0.3, requires_grad=True)
s = eff.reset(2, position=torch.tensor([[0.1, -0.2], [0.3, 0.4]]))
for _ in range(3):
    s = eff.step(s, u)
s.fingertip.sum().backward()
print(json.dumps({"available": native.available(), "native": eff._point_mass_native, "grad": u.grad.sum().item()}))
"""


def test_without_a_compiler_the_python_kernels_are_used_and_a_warning_names_why(tmp_path: Path) -> None:
    env = {**os.environ, "CC": str(tmp_path / "no-such-cc"), "MOTORNET_CORE_NATIVE_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", _FALLBACK], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["available"] is False and out["native"] is False  # the step took the Python kernel
    assert "native eager kernels unavailable" in done.stderr and "no-such-cc" in done.stderr
    with_native = subprocess.run(
        [sys.executable, "-c", _FALLBACK],
        capture_output=True,
        text=True,
        env={**os.environ, "MOTORNET_CORE_NATIVE_CACHE": str(tmp_path / "cache2")},
        timeout=120,
    )
    assert with_native.returncode == 0, with_native.stderr
    built = json.loads(with_native.stdout)
    assert built["available"] is True and built["native"] is True
    assert built["grad"] == pytest.approx(out["grad"], rel=1e-6)
    assert list((tmp_path / "cache2").glob("motornet_native_*.so"))  # built into the cache named
    assert not list((tmp_path / "cache2").glob("*.tmp"))  # and nothing half-written left


def test_training_takes_the_native_kernels_and_follows_the_python_kernels(monkeypatch) -> None:
    """tiny_point_mass with a GRU: every step goes through the C step; losses equal the Python kernels' to rounding."""
    from motornet_core.training import Trainer

    spec = run_preset("tiny_point_mass").with_updates({"train.compile": False, "train.batch_size": 4})
    from tests.core.test_kernels import _count_forwards

    calls = _count_forwards(monkeypatch, NativePointMassReluStep)
    fast = Trainer(spec)
    with native.python_kernels():
        slow = Trainer(spec)
    for _ in range(3):
        fast.train_step()
        with native.python_kernels():
            slow.train_step()
    assert calls["steps"] > 0 and calls["steps"] % 3 == 0
    assert fast.history[0] == slow.history[0]  # the same forward
    assert fast.history == pytest.approx(slow.history, rel=1e-5)


def _arm26_float32_inputs(seed: int, endpoint: bool, joint: bool, batch: int = 32):
    """Inputs that reach the Hill muscle's branches and every clamp: activations around q_crit and outside
    [a_min, 1], fibres from slack to stretched, shortening and lengthening, joints past their limits."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g)

    args = [
        r(batch, 2) * 3.2 - 0.3,
        (r(batch, 2) - 0.5) * 10,
        r(batch, 6) * 1.2 - 0.1,
        r(batch, 6) * 800,
        0.15 + r(batch, 6) * 0.25,
        (r(batch, 6) - 0.5) * 2,
        torch.randn(batch, 2, 6, generator=g) * 0.03,
        r(batch, 6) * 1.4 - 0.2,
        torch.randn(batch, 2, generator=g) * 5 if endpoint else None,
        torch.randn(batch, 2, generator=g) if joint else None,
    ]
    return [None if a is None else a.requires_grad_() for a in args]


@pytest.mark.parametrize("loads", [(False, False), (True, False), (False, True), (True, True)], ids=str)
def test_arm26_native_step_equals_the_python_kernel(loads: tuple[bool, bool]) -> None:
    """Forward bit-identical (float32; the trig is PyTorch's on the same tensors), gradients to rounding."""
    eff = build_effector(presets.arm26())
    assert kernels.arm26_native_applies(eff)
    for seed in range(6):
        args = _arm26_float32_inputs(seed, *loads)
        ours = apply_kernel(kernels.NativeArm26HillStep, eff, 0.01, *args)
        theirs = apply_kernel(kernels.Arm26HillStep, eff, 0.01, *args)
        for a, b in zip(ours, theirs, strict=True):
            assert torch.equal(a, b)
        weights = [torch.randn_like(t) for t in theirs]
        inputs = [a for a in args if a is not None]
        g_ours = torch.autograd.grad(ours, inputs, weights)
        g_theirs = torch.autograd.grad(theirs, inputs, weights)
        for a, b in zip(g_ours, g_theirs, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5 * float(b.abs().max()))


@pytest.mark.parametrize("stretched", [False, True], ids=["normal", "stretched"])
def test_arm26_native_step_gradcheck(stretched: bool) -> None:
    """Float64 gradients of every output against finite differences, both loads on."""
    from tests.core.test_kernels import _arm26_inputs

    eff, args = _arm26_inputs(stretched, seed=3)

    def fn(*a: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out: tuple[torch.Tensor, ...] = apply_kernel(kernels.NativeArm26HillStep, eff, 0.01, *a)
        return out

    assert torch.autograd.gradcheck(fn, args, eps=1e-6, atol=1e-6, rtol=1e-4)
    # and without the loads (their gradients' branches off)
    assert torch.autograd.gradcheck(lambda *a: fn(*a, None, None), args[:8], eps=1e-6, atol=1e-6, rtol=1e-4)


def test_arm26_rollout_takes_the_native_kernel_and_matches_the_generic_graph() -> None:
    eff = build_effector(presets.arm26())
    g = torch.Generator().manual_seed(5)
    u = torch.rand(50, 8, 6, generator=g).requires_grad_()
    q0 = torch.tensor([[0.8, 1.5]]).repeat(8, 1) + 0.2 * torch.randn(8, 2, generator=g)

    def run() -> torch.Tensor:
        s = eff.reset(8, position=q0)
        out = []
        for k in range(50):
            s = eff.step(s, u[k], endpoint_load=torch.full((8, 2), 2.0))
            out.append(torch.cat([s.fingertip, s.muscle.force, s.geometry.length], -1))
        return torch.stack(out)

    fast = run()
    g_fast = torch.autograd.grad(fast.sum(), u)[0]
    with kernels.generic_path():
        slow = run()
        g_slow = torch.autograd.grad(slow.sum(), u)[0]
    assert torch.equal(fast.detach(), slow.detach())
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-4, atol=1e-5 * float(g_slow.abs().max()))
    assert eff._arm26_native is True


def _op_inputs(dtype: torch.dtype, batch: int = 4, loads: bool = True):
    """Arguments of kernels.arm26_step_op (with the constants, R F sum and trig computed as the caller does)."""
    eff = build_effector(presets.arm26()).to(dtype)
    args = _arm26_float32_inputs(11, loads, loads, batch=batch)
    args = [None if a is None else a.detach().to(dtype).requires_grad_() for a in args]
    q, qd, a, force, glen, gvel, arm, e, endpoint, joint = args
    with torch.no_grad():
        c = kernels._arm26_native_constants(eff).clone()
        rf = (arm * force[:, None, :]).sum(-1)
        q1, q2 = q[:, 0], q[:, 1]
        trig = [torch.cos(q2), torch.sin(q2)]
        q12 = q1 + q2
        trig += [torch.sin(q1), torch.cos(q1), torch.sin(q12), torch.cos(q12)] if loads else [None] * 4
    return eff, (c, q, qd, a, force, glen, gvel, arm, e, endpoint, joint, rf, *trig, 0.01)


def test_the_compiled_graphs_operator_passes_opcheck_and_gradcheck() -> None:
    """The arm26 C step as a custom operator: schema, fake (meta) kernel, autograd registration and
    eager-vs-AOT gradients (torch.library.opcheck), and the compiled step's gradients against finite
    differences in float64."""
    _, args = _op_inputs(torch.float64)
    torch.library.opcheck(kernels.arm26_step_op, args)
    _, no_loads = _op_inputs(torch.float64, loads=False)
    torch.library.opcheck(kernels.arm26_step_op, no_loads)

    # the operator takes the trig of q as given (its backward differentiates through it): check the
    # composite a compiled graph runs, trig and fingertip included, called eagerly
    eff = build_effector(presets.arm26()).to(torch.float64)

    def fn(*t: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return kernels.arm26_step_compiled(eff, 0.01, *t)

    assert torch.autograd.gradcheck(fn, args[1:11], eps=1e-6, atol=1e-6, rtol=1e-4)


def test_a_compiled_large_batch_calls_the_c_step_and_matches_eager() -> None:
    """OpenLoop at NATIVE_COMPILED_MIN_BATCH rows: the compiled graph calls motornet_core::arm26_step
    (seen by the profiler) and gives the eager states and gradients to float32 rounding."""
    from torch.profiler import profile

    from motornet_core import OpenLoop

    torch._dynamo.reset()
    eff = build_effector(presets.arm26())
    b = kernels.NATIVE_COMPILED_MIN_BATCH
    g = torch.Generator().manual_seed(0)
    u = [torch.rand(b, 6, generator=g).requires_grad_() for _ in range(4)]
    loads = [torch.randn(b, 2, generator=g) for _ in range(4)]
    s0 = eff.reset(b, position=torch.tensor([[0.8, 1.5]]).repeat(b, 1))
    compiled = OpenLoop(eff, compile=True, chunk=4)
    compiled.run(s0, u, loads)  # compiles
    with profile() as prof:
        sim = compiled.run(s0, u, loads)
        grads = torch.autograd.grad(sim.fingertip.sum() + sim.activation.sum(), u)
    names = {e.name for e in prof.events()}
    assert "motornet_core::arm26_step" in names and "motornet_core::arm26_step_backward" in names
    eager = OpenLoop(eff, compile=False).run(s0, u, loads)
    g_eager = torch.autograd.grad(eager.fingertip.sum() + eager.activation.sum(), u)
    torch.testing.assert_close(sim.fingertip, eager.fingertip, rtol=1e-5, atol=1e-5)
    for a, e in zip(grads, g_eager, strict=True):
        torch.testing.assert_close(a, e, rtol=1e-4, atol=1e-5 * float(e.abs().max()))


def test_a_compiled_graph_differentiates_every_output_of_every_c_step() -> None:
    """Inside one compiled graph, gradients reach the C steps through the outputs the next step does
    not take (muscle length, F_PE, force-length and force-velocity factors) at every step, one output
    at a time, and through none of them (their gradients then absent, not zeros): as eagerly."""
    from motornet_core.open_loop import compile_chunk

    torch._dynamo.reset()
    eff = build_effector(presets.arm26())
    b = kernels.NATIVE_COMPILED_MIN_BATCH
    g = torch.Generator().manual_seed(1)
    q0 = (torch.tensor([2.0, 2.5]) * torch.rand(b, 2, generator=g)).requires_grad_()
    u = [torch.rand(b, 6, generator=g).requires_grad_() for _ in range(3)]
    w = torch.rand(b, 6, generator=g)

    def losses(q0: torch.Tensor, *u: torch.Tensor) -> list[torch.Tensor]:
        s, out = eff.reset(b, position=q0), [torch.zeros(())] * 4
        for k in range(len(u)):
            s = eff.step(s, u[k])
            m = s.muscle
            out = [o + (x * w).sum() for o, x in zip(out, (m.length, m.passive, m.curve_a, m.curve_b), strict=True)]
        return [*out, s.fingertip.sum()]

    compiled = compile_chunk(losses)  # (loads the library first: a graph then calls its C step)
    with torch.profiler.profile() as prof:
        got_losses = compiled(q0, *u)
    assert "motornet_core::arm26_step" in {e.name for e in prof.events()}
    want_losses = losses(q0, *u)
    for got_loss, want_loss in zip(got_losses, want_losses, strict=True):
        got = torch.autograd.grad(got_loss, [q0, *u], retain_graph=True)
        want = torch.autograd.grad(want_loss, [q0, *u], retain_graph=True)
        for a, e in zip(got, want, strict=True):
            torch.testing.assert_close(a, e, rtol=1e-4, atol=1e-5 * float(e.abs().max()) + 1e-12)


@pytest.mark.parametrize("loads", [False, True], ids=["no_loads", "loads"])
def test_arm26_row_blocks_give_the_one_row_bits(loads: bool) -> None:
    """arm26.c runs blocks of ARM_W = 8 float32 rows as vectors and the rest row by row: every row of a
    37-row call (4 blocks and a tail of 5) equals, bit for bit, the same row called alone (the scalar
    code), forward and backward, with some output gradients absent."""
    _, args = _op_inputs(torch.float32, batch=37, loads=loads)
    args = tuple(a.detach() if isinstance(a, torch.Tensor) else a for a in args)
    full = kernels.arm26_step_op(*args)
    g = torch.Generator().manual_seed(5)
    grads = [torch.randn(o.shape, generator=g) for o in full]
    grads[3] = grads[7] = None  # no gradient for the fibre length and the active force
    back = kernels.arm26_step_backward_op(*args, grads)
    for i in range(37):
        row = tuple(a[i : i + 1] if isinstance(a, torch.Tensor) and a.dim() > 0 and a.shape[0] == 37 else a for a in args)
        one = kernels.arm26_step_op(*row)
        for x, y in zip(one, full, strict=True):
            assert torch.equal(x[0], y[i]), i
        g_row = [None if t is None else t[i : i + 1] for t in grads]
        for x, y in zip(kernels.arm26_step_backward_op(*row, g_row), back, strict=True):
            assert torch.equal(x[0], y[i]), i


@pytest.mark.parametrize("which", ["point_mass", "arm26"])
def test_native_steps_take_expanded_gradients(which: str) -> None:
    """Gradients that are views with zero strides (the backward of ``out.sum()``) are read as such."""
    if which == "point_mass":
        eff, fast, slow = build_effector(presets.point_mass_24()), NativePointMassReluStep, PointMassReluStep
        args = _point_mass_inputs(4, torch.float32, True, True)
    else:
        eff, fast, slow = build_effector(presets.arm26()), kernels.NativeArm26HillStep, kernels.Arm26HillStep
        args = _arm26_float32_inputs(4, True, True)
    inputs = [a for a in args if a is not None]
    ours = torch.autograd.grad(sum(o.sum() for o in apply_kernel(fast, eff, 0.01, *args)), inputs)
    theirs = torch.autograd.grad(sum(o.sum() for o in apply_kernel(slow, eff, 0.01, *args)), inputs)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5 * float(b.abs().max()))


def test_an_unwritable_cache_falls_back_to_a_folder_under_the_temp_dir(tmp_path: Path, monkeypatch) -> None:
    """(Root ignores file permissions, so the cache's refusal is simulated.)"""
    cache = tmp_path / "read-only"
    monkeypatch.setenv("MOTORNET_CORE_NATIVE_CACHE", str(cache))
    monkeypatch.setattr(native.tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    real_build = native.build
    built: list[Path] = []

    def build(path: Path | None = None) -> Path:
        assert path is not None
        if cache in path.parents:
            raise PermissionError(13, "Permission denied", str(path))
        built.append(real_build(path))
        return built[-1]

    monkeypatch.setattr(native, "build", build)
    monkeypatch.setattr(native, "_state", {})
    assert native.library() is not None
    assert len(built) == 1 and (tmp_path / "tmp") in built[0].parents and built[0].exists()


@pytest.mark.parametrize("which", ["point_mass", "arm26"])
@pytest.mark.parametrize("mode", ["no_grad", "nothing_requires_grad"])
def test_steps_no_gradient_is_wanted_of_take_the_native_forward_alone(which: str, mode: str, monkeypatch) -> None:
    """Evaluation, replay, the playground and RL step without gradients: the native step's forward
    alone (no autograd node) gives the generic graph's values bit for bit, loads on, 19 rows (arm26:
    two vector blocks and a tail)."""
    from tests.core.test_kernels import _count_forwards

    if which == "point_mass":
        eff, fn, q0 = build_effector(presets.point_mass_24()), NativePointMassReluStep, torch.rand(19, 2) * 0.5
    else:
        eff, fn, q0 = build_effector(presets.arm26()), kernels.NativeArm26HillStep, torch.tensor([0.7, 1.4])
    calls = _count_forwards(monkeypatch, fn)
    g = torch.Generator().manual_seed(8)
    u = torch.rand(10, 19, eff.n_muscles, generator=g)
    ep = torch.randn(10, 19, 2, generator=g)

    def run() -> list[torch.Tensor]:
        s = eff.reset(19, position=q0)
        out = []
        for k in range(10):
            s = eff.step(s, u[k], ep[k])
            out += [s.position, s.velocity, s.muscle.activation, s.muscle.force, s.geometry.moment_arm, s.fingertip]
        return out

    if mode == "no_grad":
        with torch.no_grad():
            fast = run()
    else:
        fast = run()
    assert calls["steps"] == 10 and all(t.grad_fn is None and not t.requires_grad for t in fast)
    with kernels.generic_path():
        slow = run()
    assert calls["steps"] == 10
    for a, b in zip(fast, slow, strict=True):
        assert torch.equal(a, b)

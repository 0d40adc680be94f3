"""The eager kernels (motornet_core.kernels): forward bit-identical to the generic graph, gradients by gradcheck."""

from __future__ import annotations

import pytest
import torch

import motornet_core.kernels as kernels
from motornet_core import build_effector, native, presets
from motornet_core.kernels import Arm26HillStep, GRUCellFunction, PointMassReluStep, apply_kernel
from motornet_core.run_presets import run_preset
from motornet_core.state import EffectorState, GeometryState, MuscleState


def _rollout(eff, u, ep, q0):
    s = eff.reset(u.shape[1], position=q0)
    out = []
    for k in range(u.shape[0]):
        s = eff.step(s, u[k] * 1.3 - 0.1, endpoint_load=ep[k] * 20)
        out.append(torch.cat([s.fingertip, s.muscle.force, s.muscle.activation, s.geometry.moment_arm.flatten(1)], -1))
    return torch.stack(out)


def test_point_mass_kernel_matches_the_generic_graph() -> None:
    eff = build_effector(presets.point_mass_24())
    g = torch.Generator().manual_seed(0)
    u = torch.rand(60, 8, 4, generator=g).requires_grad_()
    ep = torch.randn(60, 8, 2, generator=g).requires_grad_()
    q0 = torch.rand(8, 2, generator=g) * 0.5
    w = torch.randn(60, 8, 20, generator=g)
    fast = _rollout(eff, u, ep, q0)
    g_fast = torch.autograd.grad((fast * w).sum(), (u, ep))
    with kernels.generic_path():
        slow = _rollout(eff, u, ep, q0)
        g_slow = torch.autograd.grad((slow * w).sum(), (u, ep))
    assert torch.equal(fast.detach(), slow.detach())
    for a, b in zip(g_fast, g_slow, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6 * float(b.abs().max()))


def test_point_mass_kernel_gradcheck() -> None:
    eff = build_effector(presets.point_mass_24()).to(torch.float64)
    g = torch.Generator().manual_seed(1)
    s = eff.reset(3, position=torch.rand(3, 2, generator=g, dtype=torch.float64) * 0.5)
    s = eff.step(s, torch.full((3, 4), 0.4, dtype=torch.float64))
    m, geo = s.muscle, s.geometry

    def fn(q, qd, a, f, arm, e, ep, jl):
        return apply_kernel(PointMassReluStep, eff, 0.01, q, qd, a, f, arm, e, ep, jl)

    args = [
        s.position,
        s.velocity + 0.3,
        m.activation + 0.1,
        m.force,
        geo.moment_arm,
        0.1 + 0.8 * torch.rand(3, 4, generator=g, dtype=torch.float64),
        torch.randn(3, 2, generator=g, dtype=torch.float64),
        torch.randn(3, 2, generator=g, dtype=torch.float64),
    ]
    args = [x.detach().clone().requires_grad_() for x in args]
    assert torch.autograd.gradcheck(fn, args, eps=1e-6, atol=1e-6, rtol=1e-4)


def _arm26_rows(s: EffectorState) -> torch.Tensor:
    m, g = s.muscle, s.geometry
    rows = [s.position, s.velocity, s.fingertip, m.activation, m.length, m.velocity, m.force, m.passive, m.curve_a, m.curve_b]
    return torch.cat([*rows, g.length, g.velocity, g.moment_arm.flatten(1)], -1)


@pytest.mark.parametrize("loads", ["none", "endpoint", "both"])
def test_arm26_kernel_matches_the_generic_graph(loads: str) -> None:
    """Every state row of an 80-step arm26 rollout bit-identical to the generic graph; gradients to rounding."""
    eff = build_effector(presets.arm26())
    assert eff._arm26_kernel
    g = torch.Generator().manual_seed(0)
    u = torch.rand(80, 8, 6, generator=g).requires_grad_()
    ep = (5 * torch.randn(80, 8, 2, generator=g)).requires_grad_()
    jl = (0.5 * torch.randn(80, 8, 2, generator=g)).requires_grad_()
    q0 = torch.tensor([0.8, 1.5]) + 0.3 * torch.rand(8, 2, generator=g)

    def rollout() -> torch.Tensor:
        s = eff.reset(8, position=q0)
        out = []
        for k in range(80):
            s = eff.step(s, u[k] * 1.3 - 0.1, None if loads == "none" else ep[k], jl[k] if loads == "both" else None)
            out.append(_arm26_rows(s))
        return torch.stack(out)

    fast = rollout()
    w = torch.randn(fast.shape, generator=g)
    inputs = (u, ep, jl) if loads == "both" else (u, ep) if loads == "endpoint" else (u,)
    g_fast = torch.autograd.grad((fast * w).sum(), inputs)
    with kernels.generic_path():
        slow = rollout()
        g_slow = torch.autograd.grad((slow * w).sum(), inputs)
    assert torch.equal(fast.detach(), slow.detach())
    for a, b in zip(g_fast, g_slow, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5 * float(b.abs().max()))


def _arm26_inputs(stretched: bool, seed: int) -> tuple[object, list[torch.Tensor]]:
    """A float64 arm26 and step inputs spanning the muscle's branches: activations below and above
    q_crit, fibres shorter and longer than optimal (``stretched``: past the passive slack and the
    force-length floor), shortening and lengthening, joints inside and past their limits."""
    eff = build_effector(presets.arm26()).to(torch.float64)
    mb = eff.muscles
    g = torch.Generator().manual_seed(seed)
    opts = {"generator": g, "dtype": torch.float64}
    b = 6
    lo, hi = (0.3, 1.75) if stretched else (0.7, 1.3)
    q = torch.tensor([0.8, 1.5], dtype=torch.float64) + 0.4 * torch.randn(b, 2, **opts)
    if stretched:
        q[0] = torch.tensor([-0.1, 2.8])  # past the lower shoulder and upper elbow limit
    geo = eff.geometry(q, torch.randn(b, 2, **opts), eff.skeleton)
    args = [
        q,
        torch.randn(b, 2, **opts),
        0.6 * torch.rand(b, 6, **opts),
        200 * torch.rand(b, 6, **opts),
        mb.l0_se + mb.l0_ce * (lo + (hi - lo) * torch.rand(b, 6, **opts)),
        0.3 * torch.randn(b, 6, **opts),
        geo.moment_arm,
        1.2 * torch.rand(b, 6, **opts) - 0.1,
        torch.randn(b, 2, **opts),
        torch.randn(b, 2, **opts),
    ]
    return eff, [x.detach().clone().requires_grad_() for x in args]


@pytest.mark.parametrize("stretched", [False, True], ids=["normal", "stretched"])
def test_arm26_kernel_gradcheck(stretched: bool) -> None:
    eff, args = _arm26_inputs(stretched, seed=3)

    def with_loads(*a):
        return apply_kernel(Arm26HillStep, eff, 0.01, *a)

    def without_loads(*a):
        return apply_kernel(Arm26HillStep, eff, 0.01, *a, None, None)

    assert torch.autograd.gradcheck(with_loads, args, eps=1e-6, atol=1e-6, rtol=1e-4)
    assert torch.autograd.gradcheck(without_loads, args[:8], eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("stretched", [False, True], ids=["normal", "stretched"])
def test_arm26_kernel_gradients_equal_the_generic_graph_in_float64(stretched: bool) -> None:
    """One step in float64: the kernel's input gradients against autograd through the generic step."""
    eff, args = _arm26_inputs(stretched, seed=4)
    q, qd, a, f, length, velocity, arm, e, ep, jl = args

    def step() -> torch.Tensor:
        muscle = MuscleState(a, length, velocity, f)
        s = EffectorState(q, qd, muscle, GeometryState(length, velocity, arm), torch.zeros(6, 4, dtype=torch.float64))
        return _arm26_rows(eff.step(s, e, ep, jl))

    w = torch.randn(6, 74, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    fast = step()
    g_fast = torch.autograd.grad((fast * w).sum(), args)
    with kernels.generic_path():
        slow = step()
        g_slow = torch.autograd.grad((slow * w).sum(), args)
    assert torch.equal(fast, slow)
    for x, y in zip(g_fast, g_slow, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-10, atol=1e-12)


def test_gru_kernel_matches_torch_and_gradcheck() -> None:
    cell = torch.nn.GRUCell(5, 7).double()
    g = torch.Generator().manual_seed(2)
    x = torch.randn(4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    h = torch.randn(4, 7, generator=g, dtype=torch.float64, requires_grad=True)
    params = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    with torch.no_grad():
        torch.testing.assert_close(cell(x, h), GRUCellFunction.apply(x, h, *params), rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradcheck(lambda *a: apply_kernel(GRUCellFunction, *a), (x, h, *params))


def _count_forwards(monkeypatch, function: type) -> dict[str, int]:
    """Count the calls of an autograd Function's forward: ``{"steps": n}``, updated as it runs."""
    calls = {"steps": 0}
    forward = function.forward

    def counted(*args):
        calls["steps"] += 1
        return forward(*args)

    monkeypatch.setattr(function, "forward", staticmethod(counted))
    return calls


def _train_twice(spec, iterations: int = 2):
    from motornet_core.training import Trainer

    fast = Trainer(spec)
    with kernels.generic_path():
        slow = Trainer(spec)
    for _ in range(iterations):
        fast.train_step()
        with kernels.generic_path():
            slow.train_step()
    return fast, slow


@pytest.mark.parametrize(
    "policy",
    [
        {"kind": "gru", "hidden_size": 6, "readout_bias": -5.0, "hidden_noise": 0.01},
        {
            "kind": "multi_area",
            "readout_bias": -5.0,
            "areas": [
                {"name": "premotor", "kind": "gru", "size": 4, "inputs": ["task", "vision", "proprioception"]},
                {"name": "motor", "kind": "gru", "size": 3, "inputs": ["proprioception"], "to_muscles": True},
            ],
            "connections": [{"source": "premotor", "target": "motor"}, {"source": "motor", "target": "premotor"}],
        },
    ],
    ids=["gru", "multi_area"],
)
def test_training_with_interventions_loads_and_noise_matches_the_generic_path(policy, monkeypatch) -> None:
    """Kernels on in a training loop with unit/area and muscle interventions, loads and noise: the
    first loss is bit-identical to the generic path's and training follows it to rounding."""
    units = {"target": "units", "units": [0, 2]} if policy["kind"] == "gru" else {"target": "area", "area": "premotor"}
    spec = run_preset("tiny_point_mass").with_updates(
        {
            "task.duration": 0.1,
            "task.action_noise": 1e-2,
            "task.vision_noise": 1e-3,
            "task.perturbations": [{"kind": "curl_field", "gain": 5.0}, {"kind": "endpoint_load", "magnitude": 2.0}],
            "train.batch_size": 4,
            "train.compile": False,
            "policy": policy,
            "interventions": [
                {"kind": "scale", **units, "value": 0.5, "start": 0.02},
                {"kind": "clamp", "target": "muscles", "muscles": [1], "value": 0.3, "end": 0.05},
            ],
        }
    )
    # the C kernel where it builds (tests/core/test_native.py asserts it does), else the Python one
    calls = _count_forwards(monkeypatch, kernels.NativePointMassReluStep if native.available() else PointMassReluStep)
    fast, slow = _train_twice(spec)
    assert calls["steps"] == 2 * 10  # every step of the kernels' run went through the kernel, none of the generic run's
    assert fast.history[0] == slow.history[0]
    assert fast.history == pytest.approx(slow.history, rel=1e-5)
    for p, q in zip(fast.policy.parameters(), slow.policy.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)


def test_arm26_training_takes_the_kernel_and_matches_the_generic_path(monkeypatch) -> None:
    """tiny_arm26 (delays, noise): every effector step of the kernels' run goes through Arm26HillStep, none
    of the generic run's; the first loss is bit-identical and training follows the generic path to rounding."""
    spec = run_preset("tiny_arm26").with_updates({"train.compile": False})
    # the C kernel where it builds (tests/core/test_native.py asserts it does), else the Python one
    calls = _count_forwards(monkeypatch, kernels.NativeArm26HillStep if native.available() else Arm26HillStep)
    fast, slow = _train_twice(spec)
    assert calls["steps"] == 2 * 10  # 0.1 s episodes at dt 0.01
    assert fast.history[0] == slow.history[0]
    assert fast.history == pytest.approx(slow.history, rel=1e-5)
    for p, q in zip(fast.policy.parameters(), slow.policy.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)


def test_arm26_kernel_follows_constants_changed_after_its_first_step() -> None:
    """The kernel caches constants derived from the effector's buffers: changed in place or cast
    (``.double()``) after a first step, the kernel's next step still equals the generic path's."""
    eff = build_effector(presets.arm26())
    g = torch.Generator().manual_seed(6)
    e = torch.rand(5, 6, generator=g).requires_grad_()
    ep = torch.randn(5, 2, generator=g)

    def both() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        s = eff.reset(5, position=torch.tensor([0.7, 1.4], dtype=eff.dtype))
        s = eff.step(s, e.to(eff.dtype), ep.to(eff.dtype))
        fast = _arm26_rows(eff.step(s, e.to(eff.dtype), ep.to(eff.dtype)))
        (g_fast,) = torch.autograd.grad(fast.sum(), e)
        with kernels.generic_path():
            s = eff.reset(5, position=torch.tensor([0.7, 1.4], dtype=eff.dtype))
            s = eff.step(s, e.to(eff.dtype), ep.to(eff.dtype))
            slow = _arm26_rows(eff.step(s, e.to(eff.dtype), ep.to(eff.dtype)))
            (g_slow,) = torch.autograd.grad(slow.sum(), e)
        return fast.detach(), slow.detach(), g_fast, g_slow

    first = both()[0]
    with torch.no_grad():
        eff.skeleton.coriolis.mul_(1.5)
        eff.skeleton.inertia_m.mul_(1.2)
        eff.skeleton.lengths.mul_(1.1)
        eff.muscles.q_crit.fill_(0.5)
        eff.geometry.a2.mul_(2.0)
    fast, slow, g_fast, g_slow = both()
    assert not torch.equal(fast, first)
    assert torch.equal(fast, slow)
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-4, atol=1e-5 * float(g_slow.abs().max()))
    eff.double()
    fast, slow, g_fast, g_slow = both()
    assert fast.dtype == torch.float64 and torch.equal(fast, slow)
    torch.testing.assert_close(g_fast, g_slow, rtol=1e-10, atol=1e-12)

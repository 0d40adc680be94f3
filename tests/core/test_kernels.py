"""The eager kernels (motornet_core.kernels): forward bit-identical to the generic graph, gradients by gradcheck."""

from __future__ import annotations

import torch

import motornet_core.kernels as kernels
from motornet_core import build_effector, presets
from motornet_core.kernels import GRUCellFunction, PointMassReluStep, apply_kernel


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


def test_gru_kernel_matches_torch_and_gradcheck() -> None:
    cell = torch.nn.GRUCell(5, 7).double()
    g = torch.Generator().manual_seed(2)
    x = torch.randn(4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    h = torch.randn(4, 7, generator=g, dtype=torch.float64, requires_grad=True)
    params = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    with torch.no_grad():
        torch.testing.assert_close(cell(x, h), GRUCellFunction.apply(x, h, *params), rtol=1e-12, atol=1e-12)
    assert torch.autograd.gradcheck(lambda *a: apply_kernel(GRUCellFunction, *a), (x, h, *params))

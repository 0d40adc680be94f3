"""Gradients flow through the physics like MotorNet's (gradient_check.json) and pass gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from motornet_core import build_effector, presets
from motornet_core.effector import Effector
from motornet_core.replay import spec_from_scenario


def _fingertip_x_and_grad(case: dict, dtype: torch.dtype) -> tuple[float, np.ndarray]:
    inputs = case["scenario_inputs"]
    eff = Effector(spec_from_scenario(inputs)).to(dtype)
    exc = torch.tensor(inputs["excitation"], dtype=dtype, requires_grad=True)  # (T, B, M)
    init = inputs["initial_joint_state"]
    state = eff.reset(exc.shape[1], position=torch.tensor(init["position"], dtype=dtype))
    for k in range(case["s_target"]):
        state = eff.step(state, exc[k])
    x = state.fingertip[0, 0]
    (grad,) = torch.autograd.grad(x, exc)
    return float(x.detach()), grad[:, 0, :].numpy()


def test_gradient_cases_match_motornet(gradient_cases: list[dict]) -> None:
    """Agreement to ~1e-6 relative: the file's parameters are rounded to 7 digits (e.g. a3 = 1.570796)."""
    assert len(gradient_cases) >= 5
    for case in gradient_cases:
        x64, g64 = _fingertip_x_and_grad(case, torch.float64)
        assert x64 == pytest.approx(case["x_float64"], rel=1e-5, abs=1e-9)
        ref_all = np.asarray(case["grad_all_k_float64"]["values"])
        scale = np.abs(ref_all).max() + 1e-12
        np.testing.assert_allclose(g64[: ref_all.shape[0]], ref_all, rtol=1e-4, atol=1e-5 * scale)
        assert g64[10, 0] == pytest.approx(case["grad_k10_muscle0_float64"], rel=1e-5, abs=1e-9)
        if case["s_target"] == 40:  # smooth part: autograd agrees with finite differences
            assert g64[10, 0] == pytest.approx(case["finite_difference_float64_eps1e-06"], rel=1e-5)
        x32, g32 = _fingertip_x_and_grad(case, torch.float32)
        assert x32 == pytest.approx(case["x_float32"], abs=1e-6)
        assert g32[10, 0] == pytest.approx(case["grad_k10_muscle0_float32"], rel=1e-4, abs=1e-7)


def test_wrong_parameter_breaks_the_gradient_match(gradient_cases: list[dict]) -> None:
    case = next(c for c in gradient_cases if c["s_target"] == 40)
    case = {**case, "scenario_inputs": {**case["scenario_inputs"]}}
    params = {**case["scenario_inputs"]["parameters"]}
    params["skeleton"] = {**params["skeleton"], "m2": params["skeleton"]["m2"] * 1.02}
    case["scenario_inputs"]["parameters"] = params
    _, g64 = _fingertip_x_and_grad(case, torch.float64)
    assert g64[10, 0] != pytest.approx(case["grad_k10_muscle0_float64"], rel=1e-3)


@pytest.mark.parametrize("name", ["arm26", "arm26_compliant", "point_mass_24", "arm210", "arm3_winter", "arm26_mujoco"])
@pytest.mark.parametrize("method", ["euler", "rk4", "rk4_motornet"])
def test_gradcheck_one_step(name: str, method: str) -> None:
    spec = presets.EFFECTOR_PRESETS[name]().model_copy(update={"integration": method, "dt": 0.002})
    eff = build_effector(spec).to(torch.float64)
    gen = torch.Generator().manual_seed(0)
    lo, hi = eff.skeleton.pos_lb, eff.skeleton.pos_ub
    q0 = (lo + (0.3 + 0.4 * torch.rand(2, eff.dof, generator=gen, dtype=torch.float64)) * (hi - lo)).requires_grad_()
    u = (0.2 + 0.5 * torch.rand(2, eff.n_muscles, generator=gen, dtype=torch.float64)).requires_grad_()
    f_end = torch.randn(2, 2, generator=gen, dtype=torch.float64).requires_grad_()
    # a nonzero start velocity keeps finite differences off the force-velocity kink at v = 0
    qd0 = 0.5 + torch.rand(2, eff.dof, generator=gen, dtype=torch.float64)

    def run(q0: torch.Tensor, u: torch.Tensor, f_end: torch.Tensor) -> torch.Tensor:
        s = eff.reset(2, position=q0, velocity=qd0)
        s = eff.step(s, u, endpoint_load=f_end)
        s = eff.step(s, u, endpoint_load=f_end)
        return torch.cat([s.position, s.velocity, s.muscle.force], dim=-1)

    assert torch.autograd.gradcheck(run, (q0, u, f_end), eps=1e-6, atol=1e-4, rtol=1e-3)


def test_gradient_with_respect_to_parameters() -> None:
    eff = build_effector(presets.arm26()).to(torch.float64)
    (fmax,) = eff.make_learnable(["muscles.max_iso_force"])
    s = eff.reset(1, position=torch.tensor([0.8, 1.5], dtype=torch.float64))
    for _ in range(5):
        s = eff.step(s, torch.full((1, 6), 0.4, dtype=torch.float64))
    s.fingertip[0, 0].backward()
    assert fmax.grad is not None and torch.isfinite(fmax.grad).all() and fmax.grad.abs().sum() > 0

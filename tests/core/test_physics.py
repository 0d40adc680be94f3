"""Physics properties: convergence orders, n-link vs two-link, energy, kinematics, limits, loads."""

from __future__ import annotations

import math

import pytest
import torch

from motornet_core import EffectorSpec, SimulationError, build_effector, presets
from motornet_core.effector import Effector

F64 = torch.float64


def _as_relu(spec: EffectorSpec, scale: float = 1.0) -> dict:
    """The same effector with linear muscles (force = a * F_max * scale): smooth, no passive force."""
    data = spec.model_dump(mode="json")
    keep = {"name", "max_iso_force", "tau_activation", "tau_deactivation", "geometry"}
    data["muscles"] = [
        {**{k: v for k, v in m.items() if k in keep}, "kind": "relu", "max_iso_force": m["max_iso_force"] * scale}
        for m in data["muscles"]
    ]
    return data


def _relu_arm(method: str, dt: float) -> Effector:
    """Two-link arm with linear muscles and polynomial geometry: smooth dynamics, no kinks."""
    spec = _as_relu(presets.arm26(), scale=0.05)
    spec.update(integration=method, dt=dt)
    return build_effector(spec).to(F64)


def _final_position(eff: Effector, duration: float) -> torch.Tensor:
    s = eff.reset(1, position=torch.tensor([0.9, 1.4], dtype=F64), velocity=torch.tensor([0.3, -0.2], dtype=F64))
    u = torch.tensor([[0.6, 0.1, 0.4, 0.2, 0.5, 0.3]], dtype=F64)
    for _ in range(round(duration / eff.dt)):
        s = eff.step(s, u)
    assert (s.position > eff.skeleton.pos_lb).all() and (s.position < eff.skeleton.pos_ub).all()
    return torch.cat([s.position, s.velocity], -1)


@pytest.mark.parametrize(("method", "order"), [("rk4", 4.0), ("euler", 1.0)])
def test_convergence_order(method: str, order: float) -> None:
    duration = 0.16
    ref = _final_position(_relu_arm("rk4", 0.00025), duration)
    steps = (0.008, 0.004, 0.002) if method == "rk4" else (0.002, 0.001, 0.0005)
    errors = [float((_final_position(_relu_arm(method, dt), duration) - ref).abs().max()) for dt in steps]
    rates = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
    assert all(abs(r - order) < 0.35 for r in rates), (errors, rates)


def test_n_link_arm_with_two_links_matches_two_link_arm() -> None:
    two = presets.arm210().model_dump(mode="json")
    sk = two["skeleton"]
    links = [
        {
            "mass": sk["m1"],
            "length": sk["L1"],
            "com": sk["L1g"],
            "inertia": sk["I1"],
            "pos_upper_bound": sk["pos_upper_bound"][0],
        },
        {
            "mass": sk["m2"],
            "length": sk["L2"],
            "com": sk["L2g"],
            "inertia": sk["I2"],
            "pos_upper_bound": sk["pos_upper_bound"][1],
        },
    ]
    general = {**two, "skeleton": {"kind": "planar_arm", "links": links}}
    a, b = build_effector(two).to(F64), build_effector(general).to(F64)
    sa = a.reset(3, position=torch.tensor([[0.5, 1.0], [1.0, 0.4], [0.2, 2.0]], dtype=F64))
    sb = b.reset(3, position=sa.position)
    gen = torch.Generator().manual_seed(1)
    for _ in range(30):
        u = torch.rand(3, 10, generator=gen, dtype=F64)
        ep = torch.randn(3, 2, generator=gen, dtype=F64)
        sa, sb = a.step(sa, u, endpoint_load=ep), b.step(sb, u, endpoint_load=ep)
    # constants are stored in float32 (as MotorNet's), computed by different expressions: ~1e-8 apart
    torch.testing.assert_close(sb.position, sa.position, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(sb.muscle.force, sa.muscle.force, rtol=1e-5, atol=1e-4)


def _kinetic_energy(eff: Effector, q: torch.Tensor, qd: torch.Tensor) -> torch.Tensor:
    m = eff.skeleton.mass_matrix(q)  # type: ignore[operator]
    return 0.5 * torch.einsum("bi,bij,bj->b", qd, m, qd)


def test_three_link_arm_conserves_energy_with_muscles_off() -> None:
    spec = _as_relu(presets.arm3_winter())
    spec.update(integration="rk4", dt=0.001)
    eff = build_effector(spec).to(F64)
    s = eff.reset(1, position=torch.tensor([1.0, 1.2, 0.1], dtype=F64), velocity=torch.tensor([0.8, -1.0, 1.5], dtype=F64))
    zero = torch.zeros(1, eff.n_muscles, dtype=F64)
    e0 = _kinetic_energy(eff, s.position, s.velocity)
    for _ in range(200):
        s = eff.step(s, zero)
    assert torch.allclose(s.muscle.force, torch.zeros_like(s.muscle.force))
    e1 = _kinetic_energy(eff, s.position, s.velocity)
    assert float((e1 - e0).abs() / e0) < 1e-8
    assert float((s.position - torch.tensor([1.0, 1.2, 0.1], dtype=F64)).abs().max()) > 0.05  # it moved


@pytest.mark.parametrize("name", ["arm26", "arm3_winter", "point_mass_24"])
def test_fingertip_jacobian_and_velocity_match_autograd(name: str) -> None:
    eff = build_effector(presets.EFFECTOR_PRESETS[name]()).to(F64)
    q = eff.reset(1, generator=torch.Generator().manual_seed(3)).position
    qd = torch.randn(1, eff.dof, dtype=F64)
    jac = torch.autograd.functional.jacobian(lambda x: eff.skeleton.fingertip(x, qd)[:, :2], q)[0, :, 0, :]
    torch.testing.assert_close(eff.skeleton.jacobian(q)[0], jac)
    torch.testing.assert_close(eff.skeleton.fingertip(q, qd)[0, 2:], jac @ qd[0])


@pytest.mark.parametrize("name", ["arm26", "arm210", "arm3_winter", "point_mass_24"])
def test_moment_arms_are_length_derivatives(name: str) -> None:
    eff = build_effector(presets.EFFECTOR_PRESETS[name]()).to(F64)
    q = eff.reset(2, generator=torch.Generator().manual_seed(4)).position
    qd = torch.zeros_like(q)
    geom = eff.geometry(q, qd, eff.skeleton)
    jac = torch.autograd.functional.jacobian(lambda x: eff.geometry(x, qd, eff.skeleton).length.sum(0), q)  # (M, B, n)
    torch.testing.assert_close(geom.moment_arm, jac.permute(1, 2, 0))


def test_exact_path_velocity_is_length_rate_and_motornet_quirk_differs() -> None:
    spec = presets.arm210()
    exact = build_effector(spec.model_copy(update={"motornet_compat": False})).to(F64)
    compat = build_effector(spec).to(F64)
    q = torch.tensor([[0.7, 1.1]], dtype=F64)
    qd = torch.tensor([[0.9, -0.6]], dtype=F64)
    g_exact = exact.geometry(q, qd, exact.skeleton)
    torch.testing.assert_close(g_exact.velocity, torch.einsum("bnm,bn->bm", g_exact.moment_arm, qd))
    g_compat = compat.geometry(q, qd, compat.skeleton)
    on_body2 = torch.tensor([any(p.body == 2 for p in m.geometry.points) for m in spec.muscles])  # type: ignore[union-attr]
    differs = (g_compat.velocity - g_exact.velocity).abs()[0] > 1e-6
    assert torch.equal(differs, on_body2)


def test_joint_limit_pins_the_joint() -> None:
    eff = build_effector(presets.arm26())
    s = eff.reset(1, position=torch.tensor([0.1, 2.6]))
    u = torch.zeros(1, 6)
    u[0, 2] = 1.0  # brachioradialis flexes the elbow into its upper bound
    for _ in range(40):
        s = eff.step(s, u)
    assert float(s.position[0, 1]) == pytest.approx(eff.skeleton.pos_ub[1].item())
    assert float(s.velocity[0, 1]) == 0.0


def test_batch_rows_are_independent() -> None:
    eff = build_effector(presets.arm26())
    q = torch.tensor([[0.5, 1.0], [1.2, 0.7], [0.3, 2.0]])
    u = torch.rand(3, 6, generator=torch.Generator().manual_seed(0))
    s = eff.reset(3, position=q)
    singles = [eff.reset(1, position=q[i : i + 1]) for i in range(3)]
    for _ in range(10):
        s = eff.step(s, u)
        singles = [eff.step(si, u[i : i + 1]) for i, si in enumerate(singles)]
    torch.testing.assert_close(s.position, torch.cat([si.position for si in singles]))


def test_endpoint_load_equals_joint_torque_through_jacobian() -> None:
    eff = build_effector(presets.arm26()).to(F64)
    s = eff.reset(1, position=torch.tensor([0.8, 1.2], dtype=F64))
    force = torch.tensor([[4.0, -3.0]], dtype=F64)
    torque = torch.einsum("bkn,bk->bn", eff.skeleton.jacobian(s.position), force)
    u = torch.full((1, 6), 0.3, dtype=F64)
    a = eff.step(s, u, endpoint_load=force)
    b = eff.step(s, u, joint_load=torque)
    torch.testing.assert_close(a.velocity, b.velocity)
    assert float((a.velocity - eff.step(s, u).velocity).abs().max()) > 1e-4


def test_ministeps_equal_smaller_steps() -> None:
    spec = presets.arm26()
    fine = build_effector(spec.model_copy(update={"dt": 0.005}))
    split = build_effector(spec.model_copy(update={"n_ministeps": 2}))
    u = torch.full((1, 6), 0.4)
    a = b = fine.reset(1, position=torch.tensor([0.8, 1.2]))
    for _ in range(10):
        a = fine.step(fine.step(a, u), u)
        b = split.step(b, u)
    torch.testing.assert_close(a.position, b.position)


def test_damping_slows_the_arm() -> None:
    spec = presets.arm26()
    free, damped = build_effector(spec), build_effector(spec.model_copy(update={"damping": 2.0}))
    s0 = free.reset(1, position=torch.tensor([0.8, 1.2]), velocity=torch.tensor([2.0, -2.0]))
    u = torch.zeros(1, 6)
    assert damped.step(s0, u).velocity.abs().sum() < free.step(s0, u).velocity.abs().sum()


def test_compliant_exact_mode_stores_true_fibre_velocity() -> None:
    spec = presets.arm26_compliant().model_copy(update={"motornet_compat": False, "integration": "rk4", "dt": 0.0005})
    eff = build_effector(spec).to(F64)
    s = eff.reset(1, position=torch.tensor([0.8, 1.5], dtype=F64))
    u = torch.full((1, 6), 0.3, dtype=F64)
    for _ in range(20):
        s = eff.step(s, u)
    nxt = eff.step(s, u)
    rate = (nxt.muscle.length - s.muscle.length) / eff.dt
    torch.testing.assert_close(rate, 0.5 * (s.muscle.velocity + nxt.muscle.velocity), rtol=0.05, atol=1e-3)


def test_float32_and_float64_agree() -> None:
    spec = presets.arm26()
    e32, e64 = build_effector(spec), build_effector(spec).to(F64)
    s32 = e32.reset(1, position=torch.tensor([0.8, 1.2]))
    s64 = e64.reset(1, position=torch.tensor([0.8, 1.2], dtype=F64))
    for _ in range(20):
        s32 = e32.step(s32, torch.full((1, 6), 0.2))
        s64 = e64.step(s64, torch.full((1, 6), 0.2, dtype=F64))
    assert s64.position.dtype == F64
    torch.testing.assert_close(s32.position.double(), s64.position, rtol=1e-5, atol=1e-5)


def test_reset_rejects_positions_outside_bounds() -> None:
    eff = build_effector(presets.arm26())
    with pytest.raises(SimulationError, match="outside the bounds"):
        eff.reset(1, position=torch.tensor([-0.5, 1.0]))
    with pytest.raises(SimulationError, match="needs 2 values"):
        eff.reset(1, position=torch.tensor([0.5, 1.0, 0.2]))


def test_random_reset_is_seeded_and_within_bounds() -> None:
    eff = build_effector(presets.arm3_winter())
    a = eff.reset(64, generator=torch.Generator().manual_seed(7)).position
    b = eff.reset(64, generator=torch.Generator().manual_seed(7)).position
    assert torch.equal(a, b)
    assert ((a >= eff.skeleton.pos_lb) & (a <= eff.skeleton.pos_ub)).all()


def test_arm3_preset_fibres_near_optimal_at_neutral_posture() -> None:
    eff = build_effector(presets.arm3_winter())
    s = eff.reset(1, position=torch.tensor([0.8, 1.4, 0.2]))
    ln = (s.muscle.length / eff.muscles.l0_ce)[0]
    names = eff.muscle_names
    # the shoulder and elbow muscles are arm210's (its anconeus sits at ~2.4 optimal lengths)
    assert ((ln > 0.5) & (ln < 2.5)).all(), ln
    for wrist in ("wrist flexor", "wrist extensor"):
        assert 0.8 < ln[names.index(wrist)] < 1.2
    arms = s.geometry.moment_arm[0]  # (n, M)
    assert arms[2, names.index("wrist flexor")] < 0 < arms[2, names.index("wrist extensor")]


def test_spec_is_the_only_way_in() -> None:
    spec = EffectorSpec.parse(presets.point_mass_24().to_json())
    eff = build_effector(spec)
    assert eff.spec == spec and eff.n_muscles == 4 and eff.dof == 2


def test_constant_moment_arm_geometry() -> None:
    spec = presets.point_mass_24().model_dump(mode="json")
    for i, m in enumerate(spec["muscles"]):
        m["geometry"] = {"kind": "constant", "length": 1.0 + i, "moment_arms": [0.5, -0.25]}
    eff = build_effector(spec).to(F64)
    q = torch.tensor([[0.2, -0.4]], dtype=F64)
    qd = torch.tensor([[1.0, 2.0]], dtype=F64)
    g = eff.geometry(q, qd, eff.skeleton)
    torch.testing.assert_close(g.length[0], torch.tensor([1.2, 2.2, 3.2, 4.2], dtype=F64))
    torch.testing.assert_close(g.velocity[0], torch.zeros(4, dtype=F64))
    assert torch.equal(g.moment_arm[0, 0], torch.full((4,), 0.5, dtype=F64))


@pytest.mark.parametrize("name", ["arm26", "arm210", "arm26_compliant"])
def test_float64_models_carry_the_exact_constants(name: str) -> None:
    spec = presets.EFFECTOR_PRESETS[name]()
    eff32 = build_effector(spec)
    eff = build_effector(spec).to(F64)
    m0 = spec.muscles[0]
    assert eff32.dtype == torch.float32 and eff32.muscles.l0_ce.dtype == torch.float32
    assert eff.muscles.l0_ce[0].item() == m0.optimal_length  # exact, not float32's rounding
    assert eff.muscles.max_iso_force.dtype == F64 and eff.muscles.l0_se[0].item() == m0.tendon_slack_length
    assert torch.equal(eff32.muscles.l0_ce, eff.muscles.l0_ce.float())  # float32 values unchanged
    g = m0.geometry
    if g.kind == "polynomial":
        assert eff.geometry.a0[0].item() == g.a0 and eff.geometry.a1[:, 0].tolist() == g.a1
    else:
        assert eff.geometry.coords[0].tolist() == [g.points[0].x, g.points[0].y]
    assert torch.equal(build_effector(spec).double().muscles.l0_ce, eff.muscles.l0_ce)  # .double() too
    back = eff.float().to(F64)  # a round trip through float32 restores the exact values
    assert back.muscles.l0_ce[0].item() == m0.optimal_length


def test_a_changed_constant_survives_a_cast_to_float64() -> None:
    eff = build_effector(presets.arm26())
    eff.muscles.max_iso_force[0] = 0.1
    eff = eff.to(F64)
    assert eff.muscles.max_iso_force[0].item() == pytest.approx(0.1, abs=1e-8)
    assert eff.muscles.max_iso_force[0].item() != 838.0  # the value set (in float32), not the spec's
    assert eff.muscles.max_iso_force[1].item() == 1207.0


def test_float64_skeleton_constants_are_exact() -> None:
    eff = build_effector(presets.arm26()).to(F64)
    assert eff.skeleton.lengths[0].item() == 0.309
    assert build_effector(presets.arm26()).skeleton.lengths.dtype == torch.float32  # float32 by default


@pytest.mark.parametrize("compat", [False, True])
def test_arm3_winter_muscle_velocity_is_the_rate_of_change_of_its_length(compat: bool) -> None:
    spec = presets.arm3_winter()
    assert spec.motornet_compat is False  # our own design: no MotorNet quirk
    eff = build_effector(spec.model_copy(update={"motornet_compat": compat})).to(F64)
    q = torch.tensor([[0.7, 1.2, 0.3], [1.1, 0.4, -0.5]], dtype=F64)
    qd = torch.tensor([[0.9, -1.3, 2.0], [-0.4, 1.5, -1.1]], dtype=F64)
    h = 1e-6
    v = eff.reset(2, position=q, velocity=qd).muscle.velocity
    plus, minus = (eff.reset(2, position=q + s * h * qd).muscle.length for s in (1, -1))
    fd = (plus - minus) / (2 * h)  # (B, M) [m/s] along q(t) = q + t qd
    if compat:  # MotorNet's quirk weights distal points' partials with absolute angular velocities
        assert (v - fd).abs().max().item() > 1e-3
    else:
        torch.testing.assert_close(v, fd, rtol=1e-6, atol=1e-8)

"""The playground's teaching tools over /ws/sim: load toggles, single steps, workspace, moment arms."""

from __future__ import annotations

import math

import pytest
import torch

from backend.app.services.kinematics import workspace_grids
from backend.app.services.playground import Playground
from motornet_core import build_effector, presets
from motornet_core.specs import CurlFieldSpec, EndpointLoadSpec

ARM26 = presets.arm26().model_dump(mode="json")
POINT_MASS = presets.point_mass_24().model_dump(mode="json")
CURL = {"kind": "curl_field", "gain": 20.0}


def _init(ws, effector, **extra):  # type: ignore[no-untyped-def]
    ws.send_json({"type": "init", "effector": effector, **extra})
    ready = ws.receive_json()
    assert ready["type"] == "ready", ready
    return ready


def _drive(ws, values, steps, n):  # type: ignore[no-untyped-def]
    for _ in range(n):
        ws.send_json({"type": "excitation", "values": values, "steps": steps})
        state = ws.receive_json()
        assert state["type"] == "state", state
    return state


@pytest.mark.parametrize("direction, sign", [("cw", 1.0), ("ccw", -1.0)])
def test_curl_field_deflects_the_hand(client, direction, sign):
    """The point mass pulled towards the upper-right corner moves along the diagonal; a clockwise
    curl field F = k [ydot, -xdot] bends the path to the right of it (x > y), a counter-clockwise one to the left."""
    push = [0.02, 0.0, 0.0, 0.0]  # UpperRight: 10 N towards (2, 2)
    with client.websocket_connect("/ws/sim") as ws:
        _init(ws, POINT_MASS)
        free = _drive(ws, push, 5, 4)["fingertip"]
        ws.send_json({"type": "reset"})
        assert ws.receive_json()["step"] == 0
        ws.send_json({"type": "perturb", "perturbations": [{**CURL, "direction": direction}]})
        on = ws.receive_json()
        assert on["perturbations"][0]["kind"] == "curl_field" and on["step"] == 0
        curled = _drive(ws, push, 5, 4)
    assert free[0] == pytest.approx(free[1], abs=1e-6)  # no field: straight along the diagonal
    deflection = sign * (curled["fingertip"][0] - curled["fingertip"][1])
    assert deflection > 0.05, (free, curled["fingertip"])  # several cm off the 14 cm diagonal path
    assert math.hypot(*curled["endpoint_force"]) > 1.0


def test_curl_field_force_is_the_field_of_the_step_start_velocity():
    pg = Playground.for_effector(presets.point_mass_24(), None, 100, [CurlFieldSpec(gain=15.0)])
    pg.excite([0.02, 0.0, 0.0, 0.0], 7)
    vx, vy = pg.state.fingertip[0, 2:].tolist()  # type: ignore[union-attr]
    out = pg.excite([0.02, 0.0, 0.0, 0.0], 1)
    assert out["endpoint_force"] == pytest.approx([15.0 * vy, -15.0 * vx], rel=1e-5)


@pytest.mark.parametrize("angle, axis", [(0.0, 0), (90.0, 1)])
def test_endpoint_load_displaces_the_hand(client, angle, axis):
    """A relaxed arm26 under a constant 5 N fingertip load moves the way the load pulls (against no load)."""
    with client.websocket_connect("/ws/sim") as ws:
        start = _init(ws, ARM26)["state"]["fingertip"]
        free = _drive(ws, [0.0] * 6, 10, 2)["fingertip"]
        ws.send_json({"type": "reset"})
        ws.receive_json()
        ws.send_json({"type": "perturb", "perturbations": [{"kind": "endpoint_load", "magnitude": 5.0, "angle": angle}]})
        ws.receive_json()
        loaded = _drive(ws, [0.0] * 6, 10, 2)
    assert loaded["endpoint_force"][axis] == pytest.approx(5.0, abs=1e-5)
    assert loaded["endpoint_force"][1 - axis] == pytest.approx(0.0, abs=1e-5)
    pushed = (loaded["fingertip"][axis] - start[axis]) - (free[axis] - start[axis])
    assert pushed > 0.01, (start, free, loaded["fingertip"])


def test_loads_off_again_and_from_init(client):
    with client.websocket_connect("/ws/sim") as ws:
        ready = _init(ws, POINT_MASS, perturbations=[{"kind": "endpoint_load", "magnitude": 2.0, "angle": 180.0}])
        assert ready["state"]["perturbations"][0]["magnitude"] == 2.0
        moved = _drive(ws, [0.0] * 4, 5, 2)["fingertip"]
        assert moved[0] < -0.005  # pushed to -x from the start (2 N on 1 kg for 0.1 s: about 1 cm)
        ws.send_json({"type": "perturb", "perturbations": []})
        off = ws.receive_json()
        assert off["perturbations"] == [] and off["endpoint_force"] == [0.0, 0.0]
        still = _drive(ws, [0.0] * 4, 5, 1)
        assert still["endpoint_force"] == [0.0, 0.0]


def test_single_step_advances_exactly_one_step(client):
    """A step of 1 moves the clock by one dt and equals the core effector's own single step."""
    eff = build_effector(presets.arm26())
    u = [0.0, 0.0, 0.8, 0.0, 0.0, 0.0]
    with client.websocket_connect("/ws/sim") as ws:
        ready = _init(ws, ARM26, position=[0.6, 1.2])
        assert ready["state"]["step"] == 0 and ready["state"]["t"] == 0.0
        first = _drive(ws, u, 1, 1)
        second = _drive(ws, u, 1, 1)
    assert (first["step"], second["step"]) == (1, 2)
    assert first["t"] == pytest.approx(ARM26["dt"]) and second["t"] == pytest.approx(2 * ARM26["dt"])
    with torch.no_grad():
        s = eff.reset(1, position=torch.tensor([0.6, 1.2]))
        s1 = eff.step(s, torch.tensor([u]))
        s2 = eff.step(s1, torch.tensor([u]))
    assert first["position"] == pytest.approx(s1.position[0].tolist(), abs=1e-6)
    assert second["position"] == pytest.approx(s2.position[0].tolist(), abs=1e-6)
    assert second["position"] != pytest.approx(first["position"], abs=1e-9)


def test_policy_mode_single_step_and_curl_field():
    """Under a run's policy: one target message of one step is one step, and a curl field changes the path."""
    from motornet_core.run_presets import run_preset
    from motornet_core.training import Trainer

    trainer = Trainer(run_preset("tiny_point_mass"))
    paths = []
    for perturbations in ([], [CurlFieldSpec(gain=40.0)]):
        pg = Playground.for_trainer(trainer, 100, perturbations)
        goal = [pg.describe()["state"]["fingertip"][0] + 0.08, pg.describe()["state"]["fingertip"][1]]
        one = pg.reach(goal, 1)
        assert one["step"] == 1 and one["t"] == pytest.approx(trainer.effector.dt)
        out = pg.reach(goal, 30)
        assert out["step"] == 31 and out["perturbations"] == [p.model_dump() for p in perturbations]
        paths.append(out["fingertip"])
    assert paths[0] != pytest.approx(paths[1], abs=1e-3)


@pytest.mark.parametrize(
    "perturbation, loc",
    [
        ({**CURL, "start": 0.2}, "perturbations.0.start"),
        ({**CURL, "probability": 0.5}, "perturbations.0.probability"),
        ({"kind": "joint_load", "torque": [1.0, 2.0, 3.0]}, "perturbations.0.torque"),
        ({"kind": "curl_field", "gain": -3}, "perturbations.0.gain"),
        ({"kind": "wind"}, "perturbations.0.kind"),
    ],
)
def test_bad_perturbations_name_the_field(client, perturbation, loc):
    with client.websocket_connect("/ws/sim") as ws:
        _init(ws, POINT_MASS)
        ws.send_json({"type": "perturb", "perturbations": [perturbation]})
        bad = ws.receive_json()
        assert bad["type"] == "error" and loc in [e["loc"] for e in bad["errors"]], bad
        ws.send_json({"type": "excitation", "values": [0.0] * 4})
        assert ws.receive_json()["type"] == "state"  # the socket lives on


def _inside(point: tuple[float, float], grids: list) -> bool:  # type: ignore[type-arg]
    """Whether ``point`` lies in one of the grids' quadrilaterals (even-odd rule per quad)."""
    x, y = point
    for g in grids:
        for i in range(len(g) - 1):
            for j in range(len(g[0]) - 1):
                quad = [g[i][j], g[i + 1][j], g[i + 1][j + 1], g[i][j + 1]]
                hit = False
                for k in range(4):
                    (x1, y1), (x2, y2) = quad[k], quad[(k + 1) % 4]
                    if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                        hit = not hit
                if hit:
                    return True
    return False


def _edge_distance(point: list[float], grids: list) -> float:  # type: ignore[type-arg]
    """Distance [m] from ``point`` to the nearest edge between neighbouring lattice points."""
    p = torch.tensor(point, dtype=torch.float64)
    best = math.inf
    for g in grids:
        t = torch.tensor(g, dtype=torch.float64)  # (n + 1, k, 2)
        for a, b in ((t[:-1], t[1:]), (t[:, :-1], t[:, 1:])):
            a, b = a.reshape(-1, 2), b.reshape(-1, 2)
            d = b - a
            s = ((p - a) * d).sum(-1) / (d * d).sum(-1).clamp_min(1e-12)
            best = min(best, float((a + s.clamp(0, 1)[:, None] * d - p).norm(dim=-1).min()))
    return best


@pytest.mark.parametrize("name", ["arm26", "point_mass_24", "arm3_winter"])
def test_workspace_holds_every_reachable_fingertip_and_nothing_beyond(name):
    eff = build_effector(presets.EFFECTOR_PRESETS[name]())
    grids = workspace_grids(eff)
    lb, ub = eff.skeleton.pos_lb, eff.skeleton.pos_ub
    g = torch.Generator().manual_seed(3)
    q = lb + torch.rand(200, eff.dof, generator=g) * (ub - lb)
    tips = eff.body_points(q)[:, -1, :]
    # the lattice's straight edges cut a sliver (a chord's sag, < 2 mm here) off curved boundaries
    missed = [t for t in tips.tolist() if not _inside(t, grids)]
    assert all(_edge_distance(t, grids) < 0.003 for t in missed), missed[:5]
    assert len(missed) < 0.1 * len(tips)
    if name == "point_mass_24":
        assert not _inside((1.05, 0.0), grids) and _inside((0.99, -0.99), grids)
    else:
        reach = float(eff.body_points(torch.zeros(1, eff.dof))[0, -1].norm())  # straight arm
        for angle in range(0, 360, 30):
            far = (1.02 * reach * math.cos(math.radians(angle)), 1.02 * reach * math.sin(math.radians(angle)))
            assert not _inside(far, grids)
        assert not _inside((0.0, 0.0), grids)  # the shoulder: a fingertip cannot fold back onto it
    if name == "arm26":  # outside the shoulder's range [0, 135] deg: the back-right quadrant
        assert not _inside((0.2, -0.3), grids)


def test_workspace_and_moment_arms_in_the_playground_messages(client):
    with client.websocket_connect("/ws/sim") as ws:
        arm = _init(ws, ARM26)
        assert len(arm["workspace"]) == 1 and len(arm["workspace"][0]) == 17 and arm["dof"] == 2
        eff = build_effector(presets.arm26())
        q = torch.tensor([arm["state"]["position"]])
        expected = eff.reset(1, position=q).geometry.moment_arm[0]
        assert torch.tensor(arm["state"]["moment_arm"]) == pytest.approx(expected, abs=1e-6)  # [n][M]
        assert arm["start_moment_arm"] == arm["state"]["moment_arm"]
        mass = _init(ws, POINT_MASS)
        assert torch.tensor(mass["start_moment_arm"]).shape == (2, 4)  # [n][M]: a pull direction per muscle
        assert "moment_arm" not in mass["state"]  # path geometry: the drawing has the paths themselves


def test_playground_loads_survive_a_new_target_and_a_reset():
    from motornet_core.run_presets import run_preset
    from motornet_core.training import Trainer

    pg = Playground.for_trainer(Trainer(run_preset("tiny_point_mass")), 100, [EndpointLoadSpec(magnitude=3.0, angle=90.0)])
    pg.reach([0.05, 0.0], 2)
    pg.reset(None)
    out = pg.reach([0.0, 0.05], 1)
    assert out["endpoint_force"] == pytest.approx([0.0, 3.0], abs=1e-5)

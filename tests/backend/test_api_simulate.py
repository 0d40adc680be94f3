"""Open-loop simulation and geometry sweeps."""

from __future__ import annotations

import pytest

from motornet_core import presets

ARM26 = presets.arm26().model_dump(mode="json")
POINT_MASS = presets.point_mass_24().model_dump(mode="json")


def test_open_loop_single_trajectory(client):
    r = client.post("/api/simulate", json={"effector": ARM26, "excitations": [[0.2] * 6] * 10})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"] == "open_loop"
    assert len(body["time"]) == 11 and body["time"][1] == pytest.approx(ARM26["dt"])
    assert len(body["position"]) == 1 and len(body["position"][0]) == 11 and len(body["position"][0][0]) == 2
    assert len(body["joints"][0][0]) == 3  # shoulder, elbow, fingertip
    assert body["joints"][0][-1][-1] == pytest.approx(body["fingertip"][0][-1], abs=1e-5)
    assert body["activation"][0][-1][0] > body["activation"][0][0][0]
    assert len(body["force"][0][0]) == 6 and body["muscle_names"][0] == "pectoralis"


def test_open_loop_batch_position_and_loads(client):
    exc = [[[0.0] * 4, [0.5] * 4]] * 5  # (T=5, B=2, M=4)
    req = {
        "effector": POINT_MASS,
        "excitations": exc,
        "position": [[0.0, 0.0], [0.1, 0.2]],
        "endpoint_load": [1.0, 0.0],
    }
    body = client.post("/api/simulate", json=req).json()
    assert len(body["position"]) == 2
    assert body["position"][1][0] == pytest.approx([0.1, 0.2])
    assert body["position"][0][-1][0] > 0  # pushed by the load
    assert len(body["joints"][0][0]) == 1


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"excitations": [[0.1] * 5] * 3}, "excitations"),
        ({"excitations": [[0.1] * 6, [0.1] * 5]}, "excitations"),
        ({"excitations": [[0.1] * 6] * 11}, "excitations"),
        ({"position": [1.0]}, "position"),
        ({"joint_load": [[0.0, 0.0]] * 2}, "joint_load"),
    ],
)
def test_open_loop_bad_input_is_422_with_the_field(make_client, change, loc):
    c = make_client(max_sim_steps=10)
    r = c.post("/api/simulate", json={"effector": ARM26, "excitations": [[0.1] * 6] * 3, **change})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc


def test_position_outside_bounds_is_422(client):
    r = client.post("/api/simulate", json={"effector": ARM26, "excitations": [[0.1] * 6], "position": [5.0, 5.0]})
    assert r.status_code == 422
    assert "bounds" in r.json()["detail"][0]["msg"]


def test_simulate_needs_one_mode(client):
    assert client.post("/api/simulate", json={"effector": ARM26}).status_code == 422
    assert client.post("/api/simulate", json={}).status_code == 422
    assert client.post("/api/simulate", json={"run_id": 99, "targets": [[0, 0]]}).status_code == 404


def test_batch_cap(make_client):
    c = make_client(max_sim_batch=2)
    r = c.post("/api/simulate", json={"effector": POINT_MASS, "excitations": [[[0.1] * 4] * 3]})
    assert r.status_code == 422


def test_geometry_polynomial_arm(client):
    body = client.post("/api/geometry", json={"effector": ARM26, "grid": 7}).json()
    assert body["dof"] == 2 and len(body["sweeps"]) == 2
    sweep = body["sweeps"][1]
    assert len(sweep["angles"]) == 7 and len(sweep["length"]) == 7 and len(sweep["moment_arm"][0]) == 6
    assert sweep["moment_arm"][0][0] == pytest.approx(0.0)  # pectoralis does not cross the elbow
    assert body["reference"]["paths"] is None
    assert len(body["reference"]["joints"]) == 3


def test_geometry_path_points_in_world(client):
    arm210 = presets.arm210().model_dump(mode="json")
    body = client.post("/api/geometry", json={"effector": arm210}).json()
    paths = body["reference"]["paths"]
    assert len(paths) == len(arm210["muscles"])
    first = arm210["muscles"][0]["geometry"]["points"][0]
    assert first["body"] == 0 and paths[0][0] == pytest.approx([first["x"], first["y"]])
    assert len(body["sweeps"][0]["angles"]) == 41


def test_geometry_grid_cap(client):
    assert client.post("/api/geometry", json={"effector": POINT_MASS, "grid": 10_000}).status_code == 422


def test_playground_open_loop(client):
    with client.websocket_connect("/ws/sim") as ws:
        ws.send_json({"type": "excitation", "values": [0.1] * 6})
        assert ws.receive_json()["message"] == "send an init message first"
        ws.send_json({"type": "init", "effector": {**ARM26, "dt": -1}})
        bad = ws.receive_json()
        assert bad["type"] == "error" and [e["loc"] for e in bad["errors"]] == ["effector.dt"]
        ws.send_json({"type": "init", "effector": ARM26, "position": [0.5, 1.0]})
        ready = ws.receive_json()
        assert ready["type"] == "ready" and ready["mode"] == "excitation" and len(ready["muscle_names"]) == 6
        assert ready["state"]["position"] == pytest.approx([0.5, 1.0])
        ws.send_json({"type": "excitation", "values": [1.0, 0, 0, 0, 0, 0], "steps": 5})
        state = ws.receive_json()
        assert state["type"] == "state" and state["t"] == pytest.approx(5 * ARM26["dt"])
        assert len(state["joints"]) == 3 and state["activation"][0] > state["activation"][1]
        ws.send_json({"type": "target", "xy": [0.1, 0.2]})
        assert ws.receive_json()["type"] == "error"
        ws.send_json({"type": "excitation", "values": [0.1] * 6, "steps": 1000})
        assert ws.receive_json()["errors"][0]["loc"] == "steps"
        ws.send_json({"type": "reset"})
        assert ws.receive_json()["t"] == 0.0
        ws.send_json({"type": "warp"})
        assert ws.receive_json()["type"] == "error"


@pytest.mark.parametrize("preset", ["tiny_arm26", "tiny_point_mass"])
def test_playground_follows_a_policy_from_the_task_centre(preset):
    """Policy mode starts one trial at the task's centre, whatever the size of its evaluation set
    (centre-out's holds every target; a batch of 8 against a hidden state of 1 used to fail)."""
    from backend.app.services.playground import Playground
    from motornet_core.run_presets import run_preset
    from motornet_core.training import Trainer

    trainer = Trainer(run_preset(preset))
    pg = Playground.for_trainer(trainer, max_steps=100)
    ready = pg.describe()
    assert ready["mode"] == "policy" and ready["state"]["target"] == pytest.approx(ready["state"]["fingertip"])
    centre = getattr(trainer.spec.task, "centre_joint", None)
    if centre is not None:
        assert ready["state"]["position"] == pytest.approx(centre, abs=1e-6)
    goal = [ready["state"]["fingertip"][0] + 0.05, ready["state"]["fingertip"][1]]
    for _ in range(3):
        state = pg.reach(goal, steps=2)
    assert state["type"] == "state" and state["t"] == pytest.approx(6 * trainer.effector.dt)
    assert state["target"] == pytest.approx(goal) and len(state["activation"]) == trainer.effector.n_muscles


def test_playground_reaches_through_the_shared_closed_loop_past_the_episode_end():
    """The playground is a caller of the core's ClosedLoop over the functional environment: its
    states equal a ClosedLoop stepped from a held goal, and it keeps going past the episode's T steps."""
    import dataclasses

    import torch

    from backend.app.services.playground import Playground
    from motornet_core.envs import FunctionalEnv
    from motornet_core.run_presets import run_preset
    from motornet_core.training import ClosedLoop, Trainer

    trainer = Trainer(run_preset("tiny_point_mass"))
    pg = Playground.for_trainer(trainer, max_steps=100)
    goal = [0.05, -0.02]
    n = pg.loop.env.n_steps  # type: ignore[union-attr]
    state = pg.reach(goal, steps=n + 7)  # beyond the end of the episode
    assert state["t"] == pytest.approx((n + 7) * trainer.effector.dt)

    env = FunctionalEnv(trainer.effector, trainer.spec.task, deterministic=True)
    loop = ClosedLoop(env, trainer.policy)
    with torch.no_grad():
        s = env.initial(1, generator=torch.Generator().manual_seed(0), targets=torch.zeros(1, 2))
        s = env.hold_goal(s, torch.tensor([goal]))
        h = trainer.policy.initial_state(1)
        for k in range(n + 7):
            if k == n:
                s = dataclasses.replace(s, step=0)
            h, s = loop.step(h, s, noise=False)
    assert state["fingertip"] == pytest.approx(s.effector.fingertip[0, :2].tolist(), abs=1e-6)


def test_geometry_posture_holds_the_other_joints(client):
    arm210 = presets.arm210().model_dump(mode="json")
    mid = client.post("/api/geometry", json={"effector": arm210, "grid": 5}).json()
    bent = client.post("/api/geometry", json={"effector": arm210, "grid": 5, "posture": [0.5, 0.0]}).json()
    biceps = mid["muscle_names"].index("biceps")
    # the shoulder sweep of a two-joint muscle depends on where the elbow is held
    assert bent["sweeps"][0]["length"][0][biceps] != pytest.approx(mid["sweeps"][0]["length"][0][biceps], abs=1e-4)
    assert bent["sweeps"][1]["angles"] == pytest.approx(mid["sweeps"][1]["angles"])
    r = client.post("/api/geometry", json={"effector": arm210, "posture": [0.5]})
    assert r.status_code == 422 and "posture" in r.text


def test_geometry_warns_of_a_muscle_sized_for_another_path(client):
    arm210 = presets.arm210().model_dump(mode="json")
    body = client.post("/api/geometry", json={"effector": arm210, "grid": 9}).json()
    assert body["warnings"] == []
    assert all(0.5 < v < 1.5 for v in body["rest"]["fibre_length"])
    short = {**arm210["muscles"][-1], "name": "new", "optimal_length": 0.058, "tendon_slack_length": 0.02}
    short["geometry"] = {"kind": "path", "points": [{"body": 0, "x": 0.05, "y": 0.05}, {"body": 2, "x": 0.05, "y": 0.0}]}
    bad = {**arm210, "muscles": [*arm210["muscles"], short]}
    body = client.post("/api/geometry", json={"effector": bad, "grid": 9}).json()
    assert {(w["name"], w["quantity"]) for w in body["warnings"]} >= {("new", "fibre_length"), ("new", "rest_force")}
    assert body["rest"]["rest_force"][10] > 100
    relu = client.post("/api/geometry", json={"effector": POINT_MASS, "grid": 5}).json()
    assert relu["rest"] is None and relu["warnings"] == []

"""Replay a MotorNet reference scenario with our physics (``python -m motornet_core.replay``).

The effector is built from the scenario's own ``parameters`` (format in
``shared/reference/README.md``), run with its excitations, initial state, loads and integration
method, and the outputs are written under the same keys at ``output_step_indices``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path
from typing import Any

import torch

from motornet_core.effector import Effector
from motornet_core.errors import SpecError
from motornet_core.specs.effector import EffectorSpec
from motornet_core.state import EffectorState

log = logging.getLogger(__name__)

MUSCLE_CLASSES = {
    "ReluMuscle": "relu",
    "RigidTendonHillMuscle": "rigid_hill",
    "RigidTendonHillMuscleThelen": "thelen",
    "MujocoHillMuscle": "mujoco",
    "CompliantTendonHillMuscle": "compliant_hill",
}

OUTPUT_KEYS = (
    "joint_position",
    "joint_velocity",
    "fingertip_position",
    "fingertip_velocity",
    "activation",
    "muscle_length",
    "muscle_velocity",
    "muscle_force",
    "musculotendon_length",
    "musculotendon_velocity",
    "moment_arm",
)


def _per_muscle(value: Any, i: int) -> float:
    return float(value[i]) if isinstance(value, list) else float(value)


def _muscle_kind(params: dict[str, Any]) -> str:
    cls = params.get("muscle_class", "")
    if cls in MUSCLE_CLASSES:
        return MUSCLE_CLASSES[cls]
    raise SpecError(
        [{"loc": "parameters.muscle_class", "msg": f"unknown muscle class; known: {sorted(MUSCLE_CLASSES)}", "input": cls}]
    )


def _muscle_constants(kind: str, mp: dict[str, Any], i: int) -> dict[str, Any]:
    """Per-muscle model constants from the scenario's ``parameters.muscle`` block."""
    out: dict[str, Any] = {
        "max_iso_force": _per_muscle(mp["max_iso_force"], i),
        "tau_activation": float(mp["tau_activation"]),
        "tau_deactivation": float(mp["tau_deactivation"]),
        "min_activation": float(mp["min_activation"]),
    }
    if kind == "relu":
        return out
    l0_ce = _per_muscle(mp["l0_ce"], i)
    out["optimal_length"] = l0_ce
    out["tendon_slack_length"] = _per_muscle(mp["l0_se"], i)
    if kind == "mujoco":
        out.update(
            lmin=float(mp.get("lmin", 0.5)),
            lmax=float(mp.get("lmax", 1.6)),
            vmax=float(mp.get("vmax", 1.5)),
            fvmax=float(mp.get("fvmax", 1.2)),
            fpmax=_per_muscle(mp.get("l0_pe", 1.3), i),
            passive_scale=float(mp.get("passive_forces", 1.0)),
        )
        return out
    out["normalized_slack_length"] = _per_muscle(mp["l0_pe"], i) / l0_ce
    out["max_velocity"] = _per_muscle(mp["vmax"], i) / l0_ce
    if kind == "thelen":
        out.update(
            af=float(mp.get("ce_Af", 0.25)),
            fmlen=float(mp.get("ce_fmlen", 1.4)),
            gamma=float(mp.get("ce_gamma", 0.45)),
            k_pe=float(mp.get("pe_k", 5.0)),
        )
        out["eps0"] = out["k_pe"] / float(mp.get("pe_1", out["k_pe"] / 0.6))
        return out
    out.update(s_as=float(mp.get("s_as", 0.001)), q_crit=float(mp.get("q_crit", 0.3)))
    if "f_iso_n_den" in mp:
        out["fl_width"] = math.sqrt(float(mp["f_iso_n_den"]))
    if "min_flce" in mp:
        out["min_fl"] = float(mp["min_flce"])
    if kind == "compliant_hill":
        out["k_se"] = float(mp.get("k_se", 625.0))
    return out


def _geometry(geo: dict[str, Any], names: list[str], i: int) -> dict[str, Any]:
    if "a0" in geo:
        return {
            "kind": "polynomial",
            "a0": float(geo["a0"][i]),
            "a1": [float(row[i]) for row in geo["a1"]],
            "a2": [float(row[i]) for row in geo["a2"]],
            "a3": [float(v) for v in geo["a3"]],
        }
    path = geo["muscles"][names[i]]
    points = [
        {"body": int(b), "x": float(c[0]), "y": float(c[1])}
        for b, c in zip(path["fixation body"], path["coordinates"], strict=True)
    ]
    return {"kind": "path", "points": points}


def _skeleton(params: dict[str, Any]) -> dict[str, Any]:
    sk = params["skeleton"]
    bounds = {k: [float(v) for v in sk[k]] for k in ("pos_lower_bound", "pos_upper_bound", "vel_lower_bound", "vel_upper_bound")}
    if params.get("skeleton_class") == "PointMass" or "mass" in sk:
        return {"kind": "point_mass", "mass": float(sk["mass"]), **bounds}
    keys = ("m1", "m2", "L1", "L2", "L1g", "L2g", "I1", "I2")
    return {"kind": "two_link_arm", **{k: float(sk[k]) for k in keys}, "c_viscosity": float(sk.get("c_viscosity", 0.0)), **bounds}


def spec_from_scenario(scenario: dict[str, Any]) -> EffectorSpec:
    """Build the MotorNet-compatible :class:`EffectorSpec` described by a scenario's parameters."""
    params = scenario["parameters"]
    kind = _muscle_kind(params)
    names = list(params["muscle_names"])
    muscles = [
        {
            "kind": kind,
            "name": name,
            **_muscle_constants(kind, params["muscle"], i),
            "geometry": _geometry(params["geometry"], names, i),
        }
        for i, name in enumerate(names)
    ]
    loads = scenario.get("external_loads") or {}
    damping = float(params.get("damping", loads.get("damping", 0.0)) or 0.0)
    return EffectorSpec.parse(
        {
            "name": scenario.get("scenario", "replay"),
            "skeleton": _skeleton(params),
            "muscles": muscles,
            "dt": float(scenario["dt"]),
            "integration": scenario["integration_method"],
            "n_ministeps": int(scenario.get("n_ministeps", params.get("n_ministeps", 1))),
            "damping": damping,
            "motornet_compat": True,
        }
    )


def _state_outputs(eff: Effector, s: EffectorState) -> dict[str, torch.Tensor]:
    out = {
        "joint_position": s.position,
        "joint_velocity": s.velocity,
        "fingertip_position": s.fingertip[:, :2],
        "fingertip_velocity": s.fingertip[:, 2:],
        "activation": s.muscle.activation,
        "muscle_length": s.muscle.length,
        "muscle_velocity": s.muscle.velocity,
        "muscle_force": s.muscle.force,
        "musculotendon_length": s.geometry.length,
        "musculotendon_velocity": s.geometry.velocity,
        "moment_arm": s.geometry.moment_arm,
    }
    for name, row in eff.muscles.extra_rows(s.muscle).items():
        out["extra:" + name] = row
    return out


def replay(scenario: dict[str, Any], dtype: torch.dtype = torch.float32) -> dict[str, Any]:
    """Run a scenario and return the outputs (nested lists indexed [output row][batch][...])."""
    eff = Effector(spec_from_scenario(scenario)).to(dtype)
    n_steps = int(scenario["n_steps"])
    excitation = torch.tensor(scenario["excitation"], dtype=dtype)  # (T, B, M)
    batch = excitation.shape[1]
    init = scenario["initial_joint_state"]
    state = eff.reset(
        batch,
        position=torch.tensor(init["position"], dtype=dtype),
        velocity=torch.tensor(init.get("velocity") or [0.0] * eff.dof, dtype=dtype),
    )
    loads = scenario.get("external_loads") or {}
    load_type = str(loads.get("type", "")).lower()
    endpoint = joint = None
    if "endpoint" in load_type:
        endpoint = torch.tensor(loads["endpoint_load_N"], dtype=dtype).expand(batch, 2)
    if "joint" in load_type:
        joint = torch.tensor(loads["joint_load_Nm"], dtype=dtype).expand(batch, eff.dof)
    curl = float(loads["k_Ns_per_m"]) if "curl" in load_type else None
    wanted = [int(i) for i in scenario["output_step_indices"]]
    wanted_set = set(wanted)
    rows: dict[int, dict[str, torch.Tensor]] = {}
    applied = []
    with torch.no_grad():
        for k in range(n_steps + 1):
            if k in wanted_set:
                rows[k] = _state_outputs(eff, state)
            if k == n_steps:
                break
            if curl is not None:
                vel = state.fingertip[:, 2:]
                endpoint = curl * torch.stack([vel[:, 1], -vel[:, 0]], dim=-1)
                applied.append(endpoint)
            state = eff.step(state, excitation[k], endpoint, joint)
    result: dict[str, Any] = {"scenario": scenario.get("scenario"), "output_step_indices": wanted}
    for key in OUTPUT_KEYS:
        result[key] = torch.stack([rows[i][key] for i in wanted]).tolist()
    extra_names = [k for k in rows[wanted[0]] if k.startswith("extra:")]
    result["muscle_state_extra"] = {k[6:]: torch.stack([rows[i][k] for i in wanted]).tolist() for k in extra_names}
    if applied:
        result["applied_endpoint_load"] = torch.stack(applied).tolist()
    return result


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``replay SCENARIO.json -o OUT.json``."""
    parser = argparse.ArgumentParser(prog="motornet-studio replay", description=__doc__)
    parser.add_argument("scenario", type=Path, help="a scenario file in the reference format")
    parser.add_argument("-o", "--output", type=Path, required=True, help="where to write the outputs (JSON)")
    parser.add_argument("--float64", action="store_true", help="compute in float64 instead of float32")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        scenario = json.loads(args.scenario.read_text())
        out = replay(scenario, torch.float64 if args.float64 else torch.float32)
    except (OSError, json.JSONDecodeError, KeyError, SpecError) as exc:
        log.error("cannot replay %s: %s", args.scenario, exc)
        return 2
    args.output.write_text(json.dumps(out))
    log.info("wrote %s (%d output rows)", args.output, len(out["output_step_indices"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

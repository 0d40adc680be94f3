"""Fast studies without training: muscle model curves and the moment arms of the arm models."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from motornet_core import presets
from motornet_core.analysis.biomechanics import geometry_over_grid, muscle_curves
from motornet_core.effector import Effector
from motornet_core.specs.base import SpecModel, fail
from motornet_core.studies.base import StudyContext
from motornet_core.studies.plots import figure, grid_layout, line

MuscleKind = Literal["relu", "rigid_hill", "thelen", "mujoco", "compliant_hill"]

# The effector preset that carries each muscle model (relu: the point mass's linear muscles).
MODEL_PRESETS: dict[MuscleKind, str] = {
    "relu": "point_mass_24",
    "rigid_hill": "arm26",
    "thelen": "arm26_thelen",
    "mujoco": "arm26_mujoco",
    "compliant_hill": "arm26_compliant",
}


class MuscleCurvesParams(SpecModel):
    """Parameters of ``muscle_curves``."""

    models: list[MuscleKind] = Field(
        default_factory=lambda: list(MODEL_PRESETS), min_length=1, max_length=5, description="muscle models to compare"
    )
    muscle: int = Field(0, ge=0, le=5, description="which muscle of each preset (arm26: 0 = pectoralis)")
    n_points: int = Field(101, ge=11, le=2001, description="samples per curve")
    length_min: float = Field(0.4, gt=0.0, le=1.0, description="shortest normalised fibre length")
    length_max: float = Field(1.8, ge=1.0, le=3.0, description="longest normalised fibre length")

    @model_validator(mode="after")
    def _muscle_exists(self) -> MuscleCurvesParams:
        if "relu" in self.models and self.muscle > 3:
            raise fail("muscle", "the point mass (relu) has 4 muscles: use 0-3", self.muscle)
        return self


def run_muscle_curves(p: MuscleCurvesParams, ctx: StudyContext) -> tuple[dict, list, dict]:
    """Force-length (active, passive) and force-velocity curves of every muscle model."""
    data_fl, data_fv = [], []
    table, summary = [], {}
    for i, kind in enumerate(p.models):
        ctx.check()
        eff = Effector(presets.EFFECTOR_PRESETS[MODEL_PRESETS[kind]]())
        c = muscle_curves(eff, n_points=p.n_points, length_range=(p.length_min, p.length_max))
        m = p.muscle
        ln, act, pas = c["length"], c["active"][:, m], c["passive"][:, m]
        vel = c["velocity"][:, m] if c["velocity"].ndim == 2 else c["velocity"]
        fv = c["force_velocity"][:, m]
        data_fl.append(line(ln, act, kind, i))
        data_fl.append(line(ln, pas, f"{kind} passive", i, dash="dot", legend=False))
        data_fv.append(line(vel, fv, kind, i, axis=2, legend=False))
        row = {
            "model": kind,
            "preset": MODEL_PRESETS[kind],
            "muscle": c["muscle_names"][m],
            "active_peak_length": float(ln[np.argmax(act)]) if np.ptp(act) > 1e-6 else None,  # relu: flat
            "active_peak_force": float(act.max()),
            "active_at_0.6": float(np.interp(0.6, ln, act)),
            "passive_at_1.0": float(np.interp(1.0, ln, pas)),
            "passive_at_1.5": float(np.interp(1.5, ln, pas)),
            "fv_at_-0.5": float(np.interp(-0.5, vel, fv)),
            "fv_at_0": float(np.interp(0.0, vel, fv)),
            "fv_at_+0.5": float(np.interp(0.5, vel, fv)),
            "fv_monotonic": bool(np.all(np.diff(fv) >= -1e-9)),
        }
        table.append(row)
        summary[kind] = {k: row[k] for k in ("active_peak_length", "passive_at_1.5", "fv_at_-0.5", "fv_at_+0.5")}
    layout = grid_layout(
        "Muscle models: force-length and force-velocity",
        ["force-length (solid: active at full activation, dotted: passive)", "force-velocity (optimal length)"],
        ["fibre length / optimal length", "velocity / vmax (negative: shortening)"],
        ["force / F_max", "force / F_max"],
    )
    layout["xaxis2"]["range"] = [-1.2, 1.2]  # the compliant model's lengthening branch runs far beyond
    return {"curves": figure(data_fl + data_fv, layout)}, table, summary


ArmPreset = Literal["arm26", "arm210", "arm26_thelen", "arm3_winter", "point_mass_24"]


class MomentArmsParams(SpecModel):
    """Parameters of ``moment_arms``."""

    effectors: list[ArmPreset] = Field(
        default_factory=lambda: list[ArmPreset](["arm26", "arm210", "point_mass_24"]),
        min_length=1,
        max_length=5,
        description="effector presets (point_mass_24: maps over its workspace)",
    )
    n_points: int = Field(41, ge=5, le=141, description="angles per joint (odd: the middle posture is on the grid)")


def _slice(q: np.ndarray, axes: list[np.ndarray], joint: int) -> np.ndarray:
    """Rows of the product grid where every joint but ``joint`` sits at its middle grid value."""
    keep = np.ones(len(q), bool)
    for j, ax in enumerate(axes):
        if j != joint:
            keep &= np.isclose(q[:, j], ax[len(ax) // 2])
    return np.nonzero(keep)[0]


def run_moment_arms(p: MomentArmsParams, ctx: StudyContext) -> tuple[dict, list, dict]:
    """Moment arms and musculotendon lengths against each joint angle (others at mid-range)."""
    figures, table = {}, []
    summary: dict[str, Any] = {}
    for name in p.effectors:
        ctx.check()
        eff = Effector(presets.EFFECTOR_PRESETS[name]())
        g = geometry_over_grid(eff, p.n_points)
        if name.startswith("point_mass"):
            figures[name], pm_rows, summary[name] = point_mass_maps(name, g)
            table += pm_rows
            continue
        q, r, length, axes = g["joints"], g["moment_arm"], g["length"], g["axes"]
        n = eff.dof
        joint_names = ["shoulder", "elbow", "wrist"][:n] if n <= 3 else [f"joint {j}" for j in range(n)]
        data = []
        centre = np.all([np.isclose(q[:, j], ax[len(ax) // 2]) for j, ax in enumerate(axes)], axis=0)
        c_idx = int(np.nonzero(centre)[0][0])
        for j in range(n):
            rows = _slice(q, axes, j)
            deg = np.degrees(q[rows, j])
            for m, mname in enumerate(g["muscle_names"]):
                data.append(line(deg, r[rows, j, m] * 100, mname, m, axis=j + 1, legend=j == 0))
                data.append(line(deg, length[rows, m] * 100, mname, m, axis=n + j + 1, legend=False))
        titles = [f"moment arm about the {jn}" for jn in joint_names] + [f"length vs {jn} angle" for jn in joint_names]
        x_titles = [f"{jn} angle [deg]" for jn in joint_names] * 2
        y_titles = ["moment arm dL/dq [cm]"] * n + ["musculotendon length [cm]"] * n
        layout = grid_layout(f"{name}: moment arms and lengths (other joints at mid-range)", titles, x_titles, y_titles, cols=n)
        figures[name] = figure(data, layout)
        roles = {}
        for m, mname in enumerate(g["muscle_names"]):
            row = {"effector": name, "muscle": mname}
            parts = []
            for j, jn in enumerate(joint_names):
                arm = float(r[c_idx, j, m])
                row[f"{jn}_moment_arm_cm"] = arm * 100
                row[f"{jn}_moment_arm_range_cm"] = float((r[:, j, m].max() - r[:, j, m].min()) * 100)
                if abs(arm) > 1e-4:
                    parts.append(f"{jn} {'flexor' if arm < 0 else 'extensor'}")
            row["length_min_cm"] = float(length[:, m].min() * 100)
            row["length_max_cm"] = float(length[:, m].max() * 100)
            row["role"] = ", ".join(parts)
            roles[mname] = row["role"]
            table.append(row)
        summary[name] = {"posture_deg": [float(np.degrees(ax[len(ax) // 2])) for ax in axes], "roles": roles}
    keys: list[str] = []
    for row in table:  # one set of columns for every row (None where a column does not apply)
        keys += [k for k in row if k not in keys]
    table = [{k: row.get(k) for k in keys} for row in table]
    summary["convention"] = (
        "moment arm = dL/dq: negative for a flexor (it shortens as the joint angle grows); point mass: dL/dx and dL/dy "
        "(dimensionless), negative where the muscle pulls toward +x / +y"
    )
    return figures, table, summary


def point_mass_maps(name: str, g: dict[str, Any]) -> tuple[dict, list[dict[str, Any]], dict[str, Any]]:
    """The point mass's moment arms (dL/dx, dL/dy) and musculotendon lengths as maps over its workspace.

    Args:
        g: :func:`geometry_over_grid` of the point mass (its "joints" are the x and y position [m]).

    Returns:
        a figure of 3 rows (dL/dx, dL/dy, length [cm]) x one column per muscle of heatmaps, one table
        row per muscle (values at the workspace centre and their ranges) and a summary of roles.
    """
    q, r, length, axes = g["joints"], g["moment_arm"], g["length"], g["axes"]
    xs, ys = axes[0], axes[1]
    nx, ny = len(xs), len(ys)
    ix = np.searchsorted(xs, q[:, 0])
    iy = np.searchsorted(ys, q[:, 1])
    muscles = g["muscle_names"]
    quantities = [
        ("dL/dx", r[:, 0, :], "coloraxis"),
        ("dL/dy", r[:, 1, :], "coloraxis2"),
        ("length [cm]", length * 100, "coloraxis3"),
    ]
    cols = len(muscles)
    titles, xt, yt, data = [], [], [], []
    for qi, (label, values, cax) in enumerate(quantities):
        for m, mname in enumerate(muscles):
            k = qi * cols + m + 1
            grid = np.full((ny, nx), np.nan)
            grid[iy, ix] = values[:, m]
            trace: dict[str, Any] = {
                "type": "heatmap",
                "x": [round(float(v) * 100, 3) for v in xs],
                "y": [round(float(v) * 100, 3) for v in ys],
                "z": [[round(float(v), 5) for v in row] for row in grid],
                "coloraxis": cax,
                "name": f"{mname} {label}",
            }
            if k > 1:
                trace.update(xaxis=f"x{k}", yaxis=f"y{k}")
            data.append(trace)
            titles.append(f"{mname}: {label}")
            xt.append("x [cm]")
            yt.append("y [cm]")
    layout = grid_layout(f"{name}: moment arms and musculotendon lengths over the workspace", titles, xt, yt, cols=cols)
    bar_y = [(0.70, 0.30), (0.37, 0.30), (0.03, 0.30)]
    for qi, (label, _, cax) in enumerate(quantities):
        y, length_frac = bar_y[qi]
        layout[cax] = {
            "colorscale": "RdBu" if qi < 2 else "Viridis",
            "colorbar": {"title": {"text": label}, "y": y + 0.15, "len": length_frac},
        }
        if qi < 2:
            layout[cax].update(cmin=-1.0, cmax=1.0)
    layout["height"] = 900
    centre = int(np.argmin(np.linalg.norm(q, axis=1)))
    rows, roles = [], {}
    for m, mname in enumerate(muscles):
        pulls = [f"{'+' if r[centre, j, m] < 0 else '-'}{axis}" for j, axis in enumerate("xy") if abs(r[centre, j, m]) > 1e-6]
        row = {
            "effector": name,
            "muscle": mname,
            "dLdx_centre": float(r[centre, 0, m]),
            "dLdx_range": float(np.ptp(r[:, 0, m])),
            "dLdy_centre": float(r[centre, 1, m]),
            "dLdy_range": float(np.ptp(r[:, 1, m])),
            "length_min_cm": float(length[:, m].min() * 100),
            "length_max_cm": float(length[:, m].max() * 100),
            "role": "pulls toward " + ", ".join(pulls),
        }
        rows.append(row)
        roles[mname] = row["role"]
    summary = {"workspace_cm": [float(xs[0] * 100), float(xs[-1] * 100), float(ys[0] * 100), float(ys[-1] * 100)], "roles": roles}
    return figure(data, layout), rows, summary

"""Plotly figure builders; each returns a JSON-ready dict (``{"data": [...], "layout": {...}}``)."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import plotly.graph_objects as go
from numpy.typing import ArrayLike


def _plain(value: Any) -> Any:
    """Plain JSON types (lists, not plotly's base64 "bdata" arrays) so any client can read them."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:  # plotly >= 6 stores numpy arrays as base64
            arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
            if "shape" in value:
                shape = value["shape"]
                arr = arr.reshape([int(x) for x in (shape.split(",") if isinstance(shape, str) else shape)])
            return _plain(arr)
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _out(fig: go.Figure) -> dict[str, Any]:
    out = _plain(fig.to_plotly_json())
    json.dumps(out)
    return out


def trajectories_figure(snapshot: dict[str, Any], title: str = "Hand paths") -> dict[str, Any]:
    """Hand paths and targets of a training snapshot (equal x/y scales, metres)."""
    fig = go.Figure()
    for b, path in enumerate(snapshot["hand"]):
        xy = np.asarray(path)
        fig.add_trace(go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="lines", name=f"trial {b}", showlegend=False))
    targets = np.asarray(snapshot["targets"])
    fig.add_trace(
        go.Scatter(x=targets[:, 0], y=targets[:, 1], mode="markers", name="targets", marker={"symbol": "circle-open", "size": 12})
    )
    fig.update_layout(title=title, xaxis_title="x [m]", yaxis_title="y [m]", yaxis={"scaleanchor": "x", "scaleratio": 1})
    return _out(fig)


def loss_figure(steps: ArrayLike, series: dict[str, ArrayLike], log_y: bool = True) -> dict[str, Any]:
    """Loss curves: one line per named series against the iteration."""
    fig = go.Figure()
    for name, values in series.items():
        fig.add_trace(go.Scatter(x=np.asarray(steps), y=np.asarray(values, float), mode="lines", name=name))
    fig.update_layout(title="Training loss", xaxis_title="iteration", yaxis_title="loss", yaxis_type="log" if log_y else "linear")
    return _out(fig)


def activation_figure(snapshot: dict[str, Any], trial: int = 0) -> dict[str, Any]:
    """Muscle activations of one trial over time."""
    act = np.asarray(snapshot["activation"][trial])
    fig = go.Figure()
    for m, name in enumerate(snapshot["muscle_names"]):
        fig.add_trace(go.Scatter(x=snapshot["time"], y=act[:, m], mode="lines", name=name))
    fig.update_layout(title=f"Muscle activation (trial {trial})", xaxis_title="time [s]", yaxis_title="activation")
    return _out(fig)


def tuning_figure(tuning: dict[str, ArrayLike], min_r2: float = 0.0) -> dict[str, Any]:
    """Polar plot of preferred directions (radius: modulation depth) of units with R^2 >= ``min_r2``."""
    pmd, depth, r2 = (np.asarray(tuning[k], float) for k in ("pmd", "depth", "r2"))
    keep = r2 >= min_r2
    fig = go.Figure(
        go.Scatterpolar(
            theta=np.degrees(pmd[keep]),
            r=depth[keep],
            mode="markers",
            marker={"color": r2[keep], "colorscale": "Viridis", "cmin": 0, "cmax": 1, "showscale": True},
            text=[f"unit {i}, R2={v:.2f}" for i, v in zip(np.nonzero(keep)[0], r2[keep])],
        )
    )
    fig.update_layout(title="Preferred movement directions")
    return _out(fig)


def pca_figure(projection: ArrayLike, explained: ArrayLike, labels: list[str] | None = None) -> dict[str, Any]:
    """Trajectories of trials (B, T, k >= 2) in the plane of the first two principal components."""
    proj = np.asarray(projection, float)
    ratio = np.asarray(explained, float)
    fig = go.Figure()
    for b in range(proj.shape[0]):
        name = labels[b] if labels else f"trial {b}"
        fig.add_trace(go.Scatter(x=proj[b, :, 0], y=proj[b, :, 1], mode="lines", name=name))
    fig.update_layout(
        title="Population activity (PCA)",
        xaxis_title=f"PC1 ({ratio[0] * 100:.1f}%)",
        yaxis_title=f"PC2 ({ratio[1] * 100:.1f}%)" if len(ratio) > 1 else "PC2",
    )
    return _out(fig)


def moment_arm_figure(geometry: dict[str, Any], joint: int = 0) -> dict[str, Any]:
    """Moment arm of every muscle about ``joint`` against that joint's angle (others at their first grid value)."""
    q = np.asarray(geometry["joints"])
    r = np.asarray(geometry["moment_arm"])
    others = np.ones(len(q), bool)
    for j in range(q.shape[1]):
        if j != joint:
            others &= np.isclose(q[:, j], q[0, j])
    fig = go.Figure()
    for m, name in enumerate(geometry["muscle_names"]):
        fig.add_trace(go.Scatter(x=np.degrees(q[others, joint]), y=r[others, joint, m], mode="lines", name=name))
    fig.update_layout(title=f"Moment arms about joint {joint}", xaxis_title="joint angle [deg]", yaxis_title="moment arm [m]")
    return _out(fig)


def muscle_curves_figure(curves: dict[str, Any], muscle: int = 0) -> dict[str, Any]:
    """Force-length (active, passive) and force-velocity curves of one muscle, side by side."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("force-length", "force-velocity"))
    ln = np.asarray(curves["length"])
    fig.add_trace(go.Scatter(x=ln, y=np.asarray(curves["active"])[:, muscle], name="active"), row=1, col=1)
    fig.add_trace(go.Scatter(x=ln, y=np.asarray(curves["passive"])[:, muscle], name="passive"), row=1, col=1)
    vel = np.asarray(curves["velocity"])
    vel = vel[:, muscle] if vel.ndim == 2 else vel
    fig.add_trace(go.Scatter(x=vel, y=np.asarray(curves["force_velocity"])[:, muscle], name="force-velocity"), row=1, col=2)
    fig.update_xaxes(title_text="length / l0_ce", row=1, col=1)
    fig.update_xaxes(title_text="velocity / vmax", row=1, col=2)
    fig.update_yaxes(title_text="force / F_max", row=1, col=1)
    fig.update_layout(title=f"{curves['muscle_names'][muscle]} ({curves['kind']})")
    return _out(fig)

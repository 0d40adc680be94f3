"""Small plotly figure dicts built by hand: plain JSON lists, no plotly import needed to build them."""

from __future__ import annotations

from typing import Any

import numpy as np

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def color(i: int) -> str:
    """The i-th colour of the palette (cycled)."""
    return PALETTE[i % len(PALETTE)]


def _list(x: Any, digits: int = 5) -> list:
    arr = np.asarray(x, float)
    return (
        [None if not np.isfinite(v) else round(float(v), digits) for v in arr.ravel()]
        if arr.ndim <= 1
        else [_list(row, digits) for row in arr]
    )


def line(
    x: Any, y: Any, name: str, i: int = 0, axis: int = 1, dash: str | None = None, legend: bool = True, **extra: Any
) -> dict:
    """A line trace on subplot ``axis`` (1-based)."""
    trace: dict[str, Any] = {
        "type": "scatter",
        "mode": "lines",
        "x": _list(x),
        "y": _list(y),
        "name": name,
        "line": {"color": color(i), **({"dash": dash} if dash else {})},
        "showlegend": legend,
        "legendgroup": name,
    }
    if axis > 1:
        trace.update(xaxis=f"x{axis}", yaxis=f"y{axis}")
    trace.update(extra)
    return trace


def grid_layout(title: str, titles: list[str], x_titles: list[str], y_titles: list[str], cols: int | None = None) -> dict:
    """A layout with ``len(titles)`` subplots on one row (or a grid of ``cols`` columns)."""
    n = len(titles)
    cols = cols or n
    rows = -(-n // cols)
    gap_x, gap_y = 0.08, 0.14
    width = (1 - gap_x * (cols - 1)) / cols
    height = (1 - gap_y * (rows - 1)) / rows
    layout: dict[str, Any] = {"title": {"text": title}, "annotations": [], "height": 360 * rows + 60, "margin": {"t": 80}}
    for k in range(n):
        r, c = divmod(k, cols)
        x0 = c * (width + gap_x)
        y1 = 1 - r * (height + gap_y)
        suffix = "" if k == 0 else str(k + 1)
        layout[f"xaxis{suffix}"] = {"domain": [x0, x0 + width], "anchor": f"y{suffix}", "title": {"text": x_titles[k]}}
        layout[f"yaxis{suffix}"] = {"domain": [y1 - height, y1], "anchor": f"x{suffix}", "title": {"text": y_titles[k]}}
        layout["annotations"].append(
            {
                "text": titles[k],
                "x": x0 + width / 2,
                "y": y1,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
            }
        )
    return layout


def figure(data: list[dict], layout: dict) -> dict:
    """``{"data": [...], "layout": {...}}``."""
    return {"data": data, "layout": layout}


def bar(x: list, y: Any, name: str, i: int = 0, axis: int = 1, **extra: Any) -> dict:
    """A bar trace on subplot ``axis``."""
    trace: dict[str, Any] = {"type": "bar", "x": list(x), "y": _list(y), "name": name, "marker": {"color": color(i)}}
    if axis > 1:
        trace.update(xaxis=f"x{axis}", yaxis=f"y{axis}")
    trace.update(extra)
    return trace


def paths_figure(title: str, groups: list[tuple[str, np.ndarray]], targets: np.ndarray, start: np.ndarray) -> dict:
    """Hand paths: one colour per group (name, (B, T, 2) [m]), target markers, equal axes [cm]."""
    data = []
    for g, (name, hand) in enumerate(groups):
        for b, path in enumerate(np.asarray(hand) * 100):
            data.append(line(path[:, 0], path[:, 1], name, g, legend=b == 0))
    tgt = np.asarray(targets) * 100
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "x": _list(tgt[:, 0]),
            "y": _list(tgt[:, 1]),
            "name": "targets",
            "marker": {"symbol": "circle-open", "size": 14, "color": "black"},
        }
    )
    s = np.asarray(start) * 100
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "x": [float(s[0])],
            "y": [float(s[1])],
            "name": "start",
            "marker": {"color": "black"},
        }
    )
    layout = {
        "title": {"text": title},
        "xaxis": {"title": {"text": "x [cm]"}},
        "yaxis": {"title": {"text": "y [cm]"}, "scaleanchor": "x", "scaleratio": 1},
        "height": 520,
    }
    return figure(data, layout)


def interval_points(x: list, est: list[dict[str, Any]], name: str, i: int = 0, axis: int = 1, **extra: Any) -> dict:
    """Means with 95% intervals as error bars: ``est`` holds ``{"mean", "low", "high"}`` per x."""
    mean = np.array([e.get("mean", np.nan) for e in est], float)
    low = np.array([e.get("low", np.nan) for e in est], float)
    high = np.array([e.get("high", np.nan) for e in est], float)
    trace = line(x, mean, name, i, axis, mode="lines+markers", **extra)
    trace["error_y"] = {
        "type": "data",
        "symmetric": False,
        "array": _list(np.where(np.isfinite(high), high - mean, 0.0)),
        "arrayminus": _list(np.where(np.isfinite(low), mean - low, 0.0)),
        "color": color(i),
    }
    return trace


def seed_points(x: list, values: Any, name: str, i: int = 0, axis: int = 1) -> dict:
    """One marker per seed (``values`` (n_x, n_seeds)), jittered a little along x for categorical x."""
    vals = np.asarray(values, float)
    xs, ys = [], []
    for k, xv in enumerate(x):
        for v in np.atleast_1d(vals[k]):
            xs.append(xv)
            ys.append(v)
    trace = line(xs, ys, name, i, axis, mode="markers", legend=True)
    trace["marker"] = {"color": color(i), "size": 6, "opacity": 0.55, "symbol": "circle-open"}
    trace.pop("line")
    return trace

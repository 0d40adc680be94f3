"""A stand-alone HTML page of a study's figures, drawn by plotly.js.

The page loads ``plotly.min.js`` by a relative path to the installed plotly package (so nothing is
copied and nothing is fetched), falling back to the CDN build of the same version when that path
does not resolve (the page opened on another machine).
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path


def plotly_js_path() -> Path | None:
    """The ``plotly.min.js`` shipped with the plotly Python package, if installed."""
    try:
        import plotly
    except ImportError:
        return None
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return path if path.exists() else None


def _cdn() -> str:
    try:
        from plotly.offline import get_plotlyjs_version

        return f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"
    except ImportError:
        return "https://cdn.plot.ly/plotly-latest.min.js"


def render_html(name: str, figures: dict[str, dict], title: str = "", script_src: str | None = None, notes: str = "") -> str:
    """The page's text: one ``<div>`` per figure, then the figure JSON and the plotting script."""
    src = script_src or _cdn()
    divs = "\n".join(f'<h2>{html.escape(key)}</h2>\n<div id="fig-{i}" class="fig"></div>' for i, key in enumerate(figures))
    payload = json.dumps(list(figures.values())).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title or name)}</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}} .fig{{min-height:420px}}</style>
<script src="{html.escape(src)}"></script>
<script>if (!window.Plotly) document.write('<script src="{_cdn()}"><\\/script>');</script>
</head><body>
<h1>{html.escape(title or name)}</h1>
<p>{html.escape(notes)}</p>
{divs}
<script>
const figures = {payload};
figures.forEach((f, i) => Plotly.newPlot("fig-" + i, f.data, f.layout, {{responsive: true}}));
</script>
</body></html>
"""


def write_html(path: str | Path, name: str, figures: dict[str, dict], title: str = "", notes: str = "") -> Path:
    """Write :func:`render_html` to ``path`` with a relative link to the local plotly.min.js."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    local = plotly_js_path()
    src = None
    if local is not None:
        src = Path(os.path.relpath(local, path.parent.resolve())).as_posix()
    path.write_text(render_html(name, figures, title, src, notes), encoding="utf-8")
    return path

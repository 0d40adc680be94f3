"""Write docs/studies.md: every study's key numbers, duration, its figures as PNGs and an HTML page of them.

    nice .venv/bin/python scripts/make_studies_doc.py [--only NAME ...] [--results DIR] [--docs docs]
    .venv/bin/python scripts/make_studies_doc.py --render-only

For each study it reuses ``DIR/NAME/{summary,table,figures}.json`` when present (the output of
``motornet-studio study NAME --out DIR/NAME``), else runs the study with its default parameters.
It writes ``docs/studies/NAME/{figures.json,table.csv,summary.json,figures.html}``, one
``figure_K.png`` per figure (the HTML page opened in headless Chromium, plotly.js served from the
installed ``plotly`` package, each figure's div screenshotted) and ``docs/studies.md``; studies
neither found nor run are listed as not yet run.

``--render-only`` runs nothing and rewrites no result: it re-renders the PNGs and regenerates
``docs/studies.md`` from the ``figures.json``, ``summary.json`` and ``table.json`` already in
``docs/studies/`` (other runs of a study: the folders ``docs/studies/NAME_extraK``).
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import math
import os
import platform
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from motornet_core.studies import STUDIES, StudyResult, run_study  # noqa: E402
from motornet_core.studies.cli import ProgressSink  # noqa: E402
from motornet_core.studies.html import plotly_js_path, write_html  # noqa: E402

log = logging.getLogger("make_studies_doc")


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def note_muscle_curves(result: StudyResult, extras: list[StudyResult]) -> str:
    """How to read the force-length and force-velocity curves, with the stored numbers."""
    s = {k: v for k, v in result.summary.items() if isinstance(v, dict)}
    hill = [m for m, v in s.items() if v.get("active_peak_length") is not None]
    flat = [m for m, v in s.items() if v.get("active_peak_length") is None]
    text = []
    if hill:
        peaks = sorted({round(s[m]["active_peak_length"], 2) for m in hill})
        peak = f"{peaks[0]:g}" if len(peaks) == 1 else f"{peaks[0]:g} to {peaks[-1]:g}"
        short = ", ".join(f"{m} {s[m]['fv_at_-0.5']:.2f}" for m in hill)
        long = ", ".join(f"{m} {s[m]['fv_at_+0.5']:.2f}" for m in hill)
        monotone = all(s[m]["fv_at_-0.5"] < 1 < s[m]["fv_at_+0.5"] for m in hill)
        text.append(
            f"The Hill-type models ({_join(hill)}) peak at {peak} optimal length with F_max; "
            + ("their force falls with shortening and rises with lengthening" if monotone else "their force-velocity curves")
            + f" (F/F_max at -0.5 vmax: {short}; at +0.5 vmax: {long})."
        )
    for m in flat:
        v = s[m]
        text.append(
            f"{m} muscles are force = activation x F_max: no force-length peak, F/F_max {v['fv_at_-0.5']:g} and "
            f"{v['fv_at_+0.5']:g} at -0.5 and +0.5 vmax, passive force {v['passive_at_1.5']:g}."
        )
    if hill:
        passive = sorted(hill, key=lambda m: s[m]["passive_at_1.5"])
        text.append(
            "The models differ most in the passive force at 1.5 optimal lengths ("
            + ", ".join(f"{m} {s[m]['passive_at_1.5']:.2f}" for m in passive)
            + ") and in how fast force falls with shortening."
        )
    return " ".join(text)


def note_moment_arms(result: StudyResult, extras: list[StudyResult]) -> str:
    """Signs, biarticular muscles and how much the moment arms vary, from the stored table."""
    rows = [r for r in result.table if not str(r["effector"]).startswith("point_mass")]
    masses = [r for r in result.table if str(r["effector"]).startswith("point_mass")]
    wrong = []
    for r in rows:
        for joint in ("shoulder", "elbow"):
            arm = r.get(f"{joint}_moment_arm_cm") or 0.0
            if (f"{joint} flexor" in r["role"] and arm >= 0) or (f"{joint} extensor" in r["role"] and arm <= 0):
                wrong.append(f"{r['effector']} {r['muscle']}")
    biarticular = sorted({r["muscle"] for r in rows if "," in r["role"]})
    text = [
        "Flexors have negative moment arms (dL/dq < 0), extensors positive"
        + (f" (except {_join(sorted(set(wrong)))})" if wrong else f" (all {len(rows)} muscles)")
        + (f"; the biarticular {_join(biarticular)} act on both joints." if biarticular else ".")
    ]
    ranges = defaultdict(lambda: {"shoulder": 0.0, "elbow": 0.0})
    for r in rows:
        for joint in ("shoulder", "elbow"):
            ranges[r["effector"]][joint] = max(ranges[r["effector"]][joint], r.get(f"{joint}_moment_arm_range_cm") or 0.0)
    per = []
    for effector, rg in ranges.items():
        parts = [f"{joint} {'none (constant)' if rg[joint] < 1e-6 else f'{rg[joint]:.1f} cm'}" for joint in ("shoulder", "elbow")]
        per.append(f"{effector}: {', '.join(parts)}")
    text.append(
        "The largest change of a moment arm over a joint's range is, " + "; ".join(per) + ": "
        "polynomial geometries (arm26) can keep a joint's moment arms constant, path points (arm210) make them "
        "depend on the angles."
    )
    if masses:
        dx = max(r["dLdx_range"] for r in masses)
        text.append(
            f"The point mass's moment arms are the unit vectors from each muscle's anchor to the mass (dL/dx, dL/dy, "
            f"dimensionless): they vary over its workspace by up to {dx:.2f} (maps above), its muscles "
            + ", ".join(f"{r['muscle']} {r['role']}" for r in masses)
            + "."
        )
    return " ".join(text)


def _num(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v:.{digits}g}" if isinstance(v, float) else str(v)


def estimate_text(c: dict[str, Any]) -> str:
    """ "-3.21 cm [-4.02, -2.40]" from a claim's (or an estimate's) mean, low and high."""
    unit = f" {c['unit']}" if c.get("unit") else ""
    mean = c.get("mean")
    if mean is None or not math.isfinite(mean):
        return "-"
    low, high = c.get("low"), c.get("high")
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return f"{_num(mean)}{unit}"
    return f"{_num(mean)}{unit} [{_num(low)}, {_num(high)}]"


def p_text(p: Any) -> str:
    """ "p = 0.012" / "p < 0.001" / "-"."""
    if p is None or not math.isfinite(p):
        return "-"
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def claims_table(summary: dict[str, Any]) -> str:
    """The study's claims as a markdown table (mean [95% interval across seeds], n, test, p, verdicts)."""
    claims = summary.get("claims") or []
    if not claims:
        return ""
    lines = [
        "| Claim | Measure | Mean [95% interval] | n | Test | p | Holds | Against the expectation |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in claims:
        holds = {True: "yes", False: "**no**", None: "-"}[c.get("holds")]
        rep = {True: "replicates", False: "**does not replicate**", None: "-"}[c.get("replicates")]
        test, p = c.get("test") or "-", p_text(c.get("p"))
        cells = [c["claim"], c["measure"], estimate_text(c), str(c.get("n")), test, p, holds, rep]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def axis_text(axis: dict[str, Any]) -> str:
    """An axis estimate (:func:`motornet_core.studies.seeds.axial_mean`) as "12.3 deg [5.1, 20.2]"."""
    return estimate_text({"mean": axis.get("axis_deg"), "low": axis.get("low_deg"), "high": axis.get("high_deg"), "unit": "deg"})


def _errors(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def note_curl_field(result: StudyResult, extras: list[StudyResult]) -> str:
    """Baseline quality, every network's endpoint error, and which effects hold, from the stored claims."""
    s = result.summary
    n = s.get("n_networks")
    err = s["endpoint_error_cm"]["baseline"]
    per = s["endpoint_error_cm_per_seed"]
    over = s["max_overshoot_fraction"]["baseline"]
    text = [
        f"{n} networks (seeds {result.params['seed']}..{result.params['seed'] + n - 1}), {result.params['iterations']} "
        f"iterations each in the null field, then {result.params['adapt_iterations']} in the field. Baseline endpoint "
        f"error {estimate_text({**err, 'unit': 'cm'})} (per network: {_errors(per['baseline'])} cm); largest overshoot "
        f"{over['mean'] * 100:.0f}% of the reach distance on average over networks. Final endpoint errors per network: "
        f"first field trials {_errors(per['field'])} cm; adapted {_errors(per['adapted'])} cm; field removed "
        f"{_errors(per['after_effect'])} cm."
    ]
    lat = s["lateral_outward_cm"]
    text.append(
        "Lateral deviation of the outward movement (onset to arrival, mean [95% interval] across networks): "
        + "; ".join(f"{k.replace('_', ' ')} {estimate_text({**v, 'unit': 'cm'})}" for k, v in lat.items())
        + "."
    )
    failed = [c["claim"] for c in s.get("claims", []) if c.get("replicates") is False]
    if failed:
        text.append("Does not replicate here: " + "; ".join(failed) + ".")
    return " ".join(text)


def note_posture(result: StudyResult, extras: list[StudyResult]) -> str:
    """Displacement while the load is on, responses against the no-load control, the tests of the units' directions."""
    s = result.summary
    disp = s["peak_displacement_cm"]
    text = [
        f"{s['seeds']} networks, {result.params['iterations']} iterations each (final losses "
        f"{_errors(s['final_loss_per_seed'])}; without a load the hand ends "
        f"{_errors(s.get('no_load_drift_cm_per_seed', []))} cm from where it started). Peak displacement while the "
        "load is on (from the no-load path of the same network): "
        + "; ".join(f"{k}: {estimate_text({**v, 'unit': 'cm'})}" for k, v in disp.items())
        + ".",
        f"Against the no-load control {estimate_text(s['muscle_responses_rising_fraction'])} of the (muscle, direction) "
        "responses rise (fraction per network, mean and interval): a muscle that rises under a load falls under the "
        "opposite one. Averaged over the load directions the change of each muscle's activation is "
        + ", ".join(f"{m} {estimate_text(v)}" for m, v in s.get("muscle_response_vs_control", {}).items())
        + " (mean over directions per network, then across networks).",
        f"Units' preferred load directions: the unimodal Rayleigh test has p < 0.05 in {s['seeds_rayleigh_p_below_0.05']} "
        f"of {s['seeds']} networks (Fisher-combined {p_text(s['unit_pld_rayleigh_p_fisher'])}), the axial test in "
        f"{s['seeds_axial_p_below_0.05']} of {s['seeds']} (Fisher-combined {p_text(s['unit_pld_axial_p_fisher'])}); "
        f"mean axis {axis_text(s['unit_pld_axis'])}.",
    ]
    return " ".join(text)


def note_pmd(result: StudyResult, extras: list[StudyResult]) -> str:
    """Per effector: endpoint errors, bimodality across seeds, the direct arm-vs-point-mass test, growth."""
    s = result.summary
    text = []
    for name in ("point_mass_24", "arm26"):
        e = s.get(name)
        if not e:
            continue
        axis = e["axis"]
        text.append(
            f"{name}: {s['seeds']} networks, endpoint errors {_errors(e['endpoint_error_cm_per_seed'])} cm; "
            f"axial R {estimate_text(e['axial_r'])}, axial p < 0.05 in {e['seeds_axial_p_below_0.05']} of {s['seeds']} "
            f"networks (axial p per network: {', '.join(_num(v, 2) for v in e['axial_p_per_seed'])}); "
            f"mean axis {axis_text(axis)}."
        )
    arm, mass = s.get("arm26"), s.get("point_mass_24")
    if arm and mass:
        text.append(
            f"Each network has its own axis: the per-network axes do not cluster across seeds (Rayleigh test of the "
            f"doubled axes: arm26 {p_text(arm.get('axis_consistency_p'))}, point mass "
            f"{p_text(mass.get('axis_consistency_p'))}), so the pooled histograms above mix axes and look flatter than "
            f"any one network's distribution; the interval of the mean axis is correspondingly wide. R of uniformly "
            f"drawn directions is about sqrt(pi / 4n): with {arm['tuned_units']['mean']:.0f} (arm26) and "
            f"{mass['tuned_units']['mean']:.0f} (point mass) tuned units per network this floor is "
            f"{math.sqrt(math.pi / (4 * arm['tuned_units']['mean'])):.3f} and "
            f"{math.sqrt(math.pi / (4 * mass['tuned_units']['mean'])):.3f}: the unit counts do not explain the difference."
        )
    d = s.get("arm_minus_point_mass_axial_r")
    if d:
        text.append(
            f"Arm minus point mass, axial R: {estimate_text(d)} (permutation test across seeds {p_text(d['p_perm'])}, "
            f"n = {d['n']} and {d['n_reference']})."
        )
    failed = [c["claim"] for c in s.get("claims", []) if c.get("replicates") is False]
    if failed:
        text.append("Does not replicate here: " + "; ".join(failed) + ".")
    return " ".join(text)


# How to read each study, written from its stored numbers (summary.json, table.json) so that the
# text cannot contradict them; extras are the other runs of the study shown below it.
NOTES: dict[str, Callable[[StudyResult, list[StudyResult]], str]] = {
    "muscle_curves": note_muscle_curves,
    "moment_arms": note_moment_arms,
    "centre_out_curl_field": note_curl_field,
    "posture_perturbations": note_posture,
    "pmd_point_mass_vs_arm": note_pmd,
}

COMMANDS = {name: f"motornet-studio study {name} --out out/{name}" for name in STUDIES}

# Shown when a study has no stored result: what an earlier version of this page claimed and why it is withdrawn.
WITHDRAWN = {
    "centre_out_curl_field": (
        "The single-network result an earlier version of this page showed is withdrawn: its lateral deviation was the "
        "largest excursion over the whole 0.8 s episode, overshoot and return included (after-effect +13.1 cm; during "
        "the outward movement it was +9.1 cm and at peak speed +6.0 cm), and its baseline network missed the targets "
        "by 3.7 cm on average, overshooting by up to 55%. The study now measures the outward movement and peak speed "
        "only, trains 8 networks longer (1000 iterations, batch 32, 64 units) and reports each network's endpoint "
        "error; that run did not fit into this session on the loaded machine."
    ),
}


def load_result(folder: Path, name: str) -> StudyResult | None:
    """A finished study's result from the files :meth:`StudyResult.write` left in ``folder``."""
    if not (folder / "summary.json").exists():
        return None
    head = json.loads((folder / "summary.json").read_text())
    if head.get("cancelled"):
        return None
    return StudyResult(
        name=name,
        params=head["params"],
        figures=json.loads((folder / "figures.json").read_text()),
        table=json.loads((folder / "table.json").read_text()),
        summary=head["summary"],
        seconds=float(head["seconds"]),
    )


def fmt(value: Any) -> str:
    """A table cell: 3 significant digits for floats."""
    if isinstance(value, float):
        return f"{value:.3g}"
    if value is None:
        return "-"
    return str(value)


def markdown_table(rows: list[dict[str, Any]], max_rows: int = 24) -> str:
    """Rows as a markdown table (the first ``max_rows``)."""
    if not rows:
        return "(no rows)\n"
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(fmt(r.get(k)) for k in keys) + " |" for r in rows[:max_rows]]
    if len(rows) > max_rows:
        lines.append(f"\n({len(rows) - max_rows} more rows in the CSV)")
    return "\n".join(lines) + "\n"


def summary_lines(summary: dict[str, Any], prefix: str = "") -> list[str]:
    """Nested summary as bullet points."""
    out = []
    for key, value in summary.items():
        if isinstance(value, dict) and {"n", "mean", "low", "high"} <= set(value):
            extra = "".join(f", {k} {_num(v)}" for k, v in value.items() if k not in ("n", "mean", "sd", "low", "high"))
            out.append(f"- `{prefix}{key}`: {estimate_text(value)} (n = {value['n']}{extra})")
        elif isinstance(value, dict):
            out += summary_lines(value, f"{prefix}{key}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out.append(f"- `{prefix}{key}`: {len(value)} entries (see summary.json)")
        elif isinstance(value, list):
            cells = [fmt(v) if not isinstance(v, list) else json.dumps(v) for v in value[:12]]
            more = f", ... ({len(value)} values)" if len(value) > 12 else ""
            out.append(f"- `{prefix}{key}`: [{', '.join(cells)}{more}]")
        else:
            out.append(f"- `{prefix}{key}`: {fmt(value)}")
    return out


CHROMIUM = os.environ.get("MOTORNET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PNG_WIDTH = 900
PNG_HEIGHT = 500  # figures without a height of their own; taller ones keep theirs (at most PNG_MAX_HEIGHT)
PNG_MAX_HEIGHT = 800
PAGE_HOST = "http://studies.invalid"  # never resolved: every request is answered by the route below


def figure_title(key: str, figure: dict[str, Any]) -> str:
    """A figure's title (its layout's), else its key."""
    title = (figure.get("layout") or {}).get("title")
    text = title.get("text") if isinstance(title, dict) else title
    return str(text or key)


class PngRenderer:
    """Screenshots of the figures of a study's ``figures.html``, drawn by headless Chromium.

    The page is opened as it is; the plotly.js it asks for (a relative path to the installed
    package, or the CDN) is answered with the installed ``plotly`` package's ``plotly.min.js`` and
    every other request outside the page's folder is refused, so nothing is fetched.
    """

    def __init__(self, chromium: str = CHROMIUM) -> None:
        from playwright.sync_api import sync_playwright

        plotly = plotly_js_path()
        if plotly is None:
            raise RuntimeError("the plotly package (its plotly.min.js) is not installed")
        self.plotly = plotly.read_bytes()
        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)

    def close(self) -> None:
        """Stop the browser."""
        self.browser.close()
        self._pw.stop()

    def render(self, folder: Path, figures: dict[str, dict]) -> list[tuple[str, Path]]:
        """Write ``folder/figure_K.png`` (K = 1, 2, ...) for each figure of ``folder/figures.html``; returns [(title, path)]."""
        page = self.browser.new_page(viewport={"width": PNG_WIDTH + 100, "height": 900}, device_scale_factor=1)
        errors: list[str] = []
        page.on("pageerror", lambda err: errors.append(str(err)))

        def answer(route: Any) -> None:
            url = route.request.url
            if url.endswith("plotly.min.js") or "cdn.plot.ly" in url:
                route.fulfill(body=self.plotly, content_type="application/javascript")
            elif url.startswith(PAGE_HOST + "/"):
                local = (folder / url[len(PAGE_HOST) + 1 :].split("?")[0]).resolve()
                if local.parent == folder.resolve() and local.is_file():
                    route.fulfill(path=str(local))
                else:
                    route.abort()
            else:
                route.abort()

        try:
            page.route("**/*", answer)
            page.goto(f"{PAGE_HOST}/figures.html")
            page.wait_for_function(
                "(n) => !!window.Plotly && document.querySelectorAll('.fig .main-svg').length >= n",
                arg=len(figures),
                timeout=60_000,
            )
            if errors:
                raise RuntimeError(f"{folder}/figures.html: {errors[0]}")
            for old in folder.glob("figure_*.png"):
                old.unlink()
            out = []
            for i, (key, fig) in enumerate(figures.items()):
                height = min(int((fig.get("layout") or {}).get("height") or PNG_HEIGHT), PNG_MAX_HEIGHT)
                page.evaluate(
                    """async ([i, w, h]) => {
                        const el = document.getElementById('fig-' + i);
                        el.style.minHeight = '0';
                        el.style.width = w + 'px';
                        el.style.height = h + 'px';
                        await Plotly.react(el, el.data, {...el.layout, width: w, height: h, autosize: false},
                                           {staticPlot: true, displayModeBar: false});
                    }""",
                    [i, PNG_WIDTH, height],
                )
                path = folder / f"figure_{i + 1}.png"
                page.locator(f"#fig-{i}").screenshot(path=str(path))
                out.append((figure_title(key, fig), path))
            return out
        finally:
            page.close()


def figure_lines(name: str, pngs: list[tuple[str, Path]], rel: str) -> list[str]:
    """Markdown images of the PNGs, then the link to the interactive page."""
    out = []
    for title, path in pngs:
        alt = html.escape(title, quote=False).replace("[", "(").replace("]", ")")
        out.append(f"![{alt}]({rel}/{path.name})\n")
    out.append(
        f"Interactive figures: [{rel}/figures.html]({rel}/figures.html) (plotly.js from this repository's `.venv`, "
        f"else from the CDN; JSON: `{rel}/figures.json`).\n"
    )
    return out


def section(name: str, result: StudyResult | None, pngs: list[tuple[str, Path]], extras: list[StudyResult]) -> str:
    """The markdown section of one study."""
    info = STUDIES[name]
    text = [f"## {info.title} (`{name}`)\n", info.description + "\n", f"Command: `{COMMANDS[name]}`\n"]
    if result is None:
        text.append(
            f"**Not run at its default size for this document** (estimated ~{info.expected_seconds / 60:.0f} min on this "
            f"machine; it did not fit into the session that wrote this page). Regenerate with `{COMMANDS[name]}` and then "
            f"`scripts/make_studies_doc.py --no-run --results out`; `--quick` runs its 2-seed quick mode "
            "(a pipeline check, not a result).\n"
        )
        if name in WITHDRAWN:
            text.append(WITHDRAWN[name] + "\n")
        return "\n".join(text)
    changed = {k: v for k, v in result.params.items() if info.params().model_dump(mode="json").get(k) != v}
    text.append(
        f"Duration on this machine: **{result.seconds:.1f} s**"
        + (f" with {json.dumps(changed)}" if changed else " (defaults)")
        + ".\n"
    )
    defaults = info.params().model_dump(mode="json")
    smaller = {k: v for k, v in changed.items() if k in ("seeds", "iterations", "adapt_iterations") and v < defaults[k]}
    if smaller:
        text.append(
            f"**Smaller than the default size** ({', '.join(f'{k} {v} instead of {defaults[k]}' for k, v in smaller.items())}),"
            " for lack of time on the loaded machine: fewer networks give wider intervals and weaker tests. Regenerate at "
            f"the default size with `{COMMANDS[name]}` and `scripts/make_studies_doc.py --no-run --results out`.\n"
        )
    if name in NOTES:
        note = NOTES[name](result, extras)
        if note:
            text.append(f"Reading it: {note}\n")
    table = claims_table(result.summary)
    if table:
        text.append(
            "Claims, each tested directly across seeds (alpha 0.05). 'Against the expectation': whether the verdict "
            "matches what was expected: the paper's finding, a claim earlier versions of this page made (the growth of "
            "bimodality with training) or our requirement (a baseline under 1 cm); '-' where nothing was expected.\n"
        )
        text.append(table)
    text += figure_lines(name, pngs, f"studies/{name}")
    text.append("Key numbers:\n")
    text.append("\n".join(summary_lines({k: v for k, v in result.summary.items() if k != "claims"})) + "\n")
    text.append(f"Table (`studies/{name}/table.csv`):\n")
    text.append(markdown_table(result.table))
    return "\n".join(text)


def extra_section(name: str, result: StudyResult, folder: Path, pngs: list[tuple[str, Path]]) -> str:
    """A sub-section for another run of ``name`` with other parameters, its files in ``folder``."""
    defaults = STUDIES[name].params().model_dump(mode="json")
    changed = {k: v for k, v in result.params.items() if defaults.get(k) != v}
    rel = f"studies/{folder.name}"
    text = [
        f"### The same study with {json.dumps(changed)}\n",
        f"Command: `{COMMANDS[name]} " + " ".join(f"--set {k}={json.dumps(v)}" for k, v in changed.items()) + "`\n",
        f"Duration on this machine: **{result.seconds:.1f} s**.\n",
        *figure_lines(name, pngs, rel),
        "Key numbers:\n",
        "\n".join(summary_lines(result.summary)) + "\n",
        markdown_table(result.table),
    ]
    return "\n".join(text)


PREMOTOR_LESION = """## Lesioning the premotor area of two-area networks (`premotor_lesion`)

Not one of the paper's experiments: an in-silico inactivation built on the multi-area policies. Its
method, results (5 seeds, endpoint error, motor-area activity and target-related variance, each with a 95%
interval and a paired t-test) and caveats are in [multi-area.md](multi-area.md#study-lesioning-the-premotor-area-premotor_lesion).
"""
"""docs/studies.md's pointer to the premotor_lesion study (its results live in docs/multi-area.md)."""


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", default=None, help="studies to run when no results exist (default: all)")
    p.add_argument("--results", type=Path, default=None, help="folder of earlier `study --out` results to reuse")
    p.add_argument("--docs", type=Path, default=ROOT / "docs")
    p.add_argument("--no-run", action="store_true", help="only reuse results, run nothing")
    p.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing and rewrite no result: re-render the PNGs and docs/studies.md from the files in docs/studies/",
    )
    p.add_argument("--extra", action="append", default=[], metavar="NAME=DIR", help="also show this run of NAME (other settings)")
    p.add_argument("--no-png", action="store_true", help="do not render the figures to PNG (keep the PNGs there are)")
    p.add_argument("--chromium", default=CHROMIUM, help="the Chromium that renders the PNGs (default: %(default)s)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    renderer = None
    if not args.no_png:
        try:
            renderer = PngRenderer(args.chromium)
        except Exception as exc:  # no playwright, no chromium: the document still gets written
            log.warning("figures not rendered to PNG (%s); the document links the HTML pages and keeps the PNGs there are", exc)

    def pngs_of(folder: Path, result: StudyResult) -> list[tuple[str, Path]]:
        if not (folder / "figures.html").exists():
            write_html(
                folder / "figures.html",
                result.name,
                result.figures,
                title=STUDIES[result.name].title,
                notes=STUDIES[result.name].description,
            )
        if renderer is not None:
            out = renderer.render(folder, result.figures)
            log.info("rendered %d figures of %s", len(out), folder.name)
            return out
        kept = [(figure_title(k, f), folder / f"figure_{i + 1}.png") for i, (k, f) in enumerate(result.figures.items())]
        return [(t, path) for t, path in kept if path.exists()]

    sections = []
    try:
        for name in STUDIES:
            if name == "premotor_lesion":  # documented in docs/multi-area.md (scripts/make_multi_area_figure.py)
                continue
            folder = args.docs / "studies" / name
            result = None
            if not args.render_only:
                result = load_result(args.results / name, name) if args.results else None
                if result is None and not args.no_run and (args.only is None or name in args.only):
                    result = run_study(name, sink=ProgressSink())
            if result is None:
                result = load_result(folder, name)  # what an earlier run of this script wrote
            elif not args.render_only:
                result.write(folder)
                write_html(
                    folder / "figures.html", name, result.figures, title=STUDIES[name].title, notes=STUDIES[name].description
                )
            extras: list[tuple[StudyResult, Path]] = []
            if args.render_only:
                for extra_folder in sorted((args.docs / "studies").glob(f"{name}_extra*")):
                    extra = load_result(extra_folder, name)
                    if extra is not None:
                        extras.append((extra, extra_folder))
            else:
                for i, item in enumerate(x for x in args.extra if x.split("=", 1)[0] == name):
                    extra = load_result(Path(item.split("=", 1)[1]), name)
                    if extra is not None:
                        extra_folder = args.docs / "studies" / f"{name}_extra{i + 1}"
                        extra.write(extra_folder)
                        title = f"{STUDIES[name].title} ({extra_folder.name})"
                        write_html(extra_folder / "figures.html", name, extra.figures, title=title)
                        extras.append((extra, extra_folder))
            pngs = pngs_of(folder, result) if result is not None else []
            sections.append(section(name, result, pngs, [e for e, _ in extras]))
            for extra, extra_folder in extras:
                sections.append(extra_section(name, extra, extra_folder, pngs_of(extra_folder, extra)))
    finally:
        if renderer is not None:
            renderer.close()
    head = [
        "# Studies: the paper's experiments\n",
        "Ready-made reproductions of the experiments of Codol et al. (2024), *MotorNet* (eLife). Each study trains",
        "what it needs, runs its analysis and writes plotly figures (JSON, and an HTML page drawn by the plotly.js",
        "of the installed `plotly` package), a table (CSV) and headline numbers (`summary.json`). The images below",
        "are those pages rendered to PNG by headless Chromium.\n",
        "From Python: `motornet_core.studies.run_study(name, params, sink, should_stop, out_dir)`; from the shell:",
        "`motornet-studio study NAME --out DIR [--quick] [--set key=value ...]` (`motornet-studio study --list` shows",
        "every parameter).\n",
        "**Seeds and statistics.** Every training study trains 8 networks per condition by default (seeds 0-7, one",
        "replicate ensemble) and reports every effect as the mean across networks with its 95% BCa bootstrap interval",
        "and n; the comparison a claim makes is tested directly: paired tests on the same networks (paired t-test,",
        "sign-flip permutation test), a permutation test across seeds for two groups of networks (arm vs point mass),",
        "Rayleigh tests per network combined with Fisher's method (scipy.stats throughout). The claims table of each",
        "study says whether the claim holds at alpha = 0.05 and whether that matches the paper's finding where the",
        "paper states one; a claim that does not match is marked **does not replicate**. `--quick` (2 seeds, few",
        "iterations) is a pipeline check for tests, never a result.\n",
        "**Literature.** Scott et al. (2001, Nature) and Lillicrap & Scott (2013, Neuron) report bimodal distributions",
        "of preferred directions in monkey motor cortex during reaching, which the paper relates to the arm's",
        "mechanics; we did not verify their numerical values (axes, concentrations) and compare none of our numbers",
        "with them, only the qualitative claim, with the axial Rayleigh test on the networks' units.\n",
        f"Machine: {platform.machine()}, 2 cores shared with about seven other agents' work while these were run (loaded),",
        "one torch thread per study, so the durations are pessimistic. This page is written by",
        "`scripts/make_studies_doc.py` (`--render-only` redraws the figures and this page from the stored results).\n",
        "Sign conventions: lateral deviation is positive to the left of the movement; moment arms are dL/dq, negative",
        "for a flexor; angles in degrees counter-clockwise from +x.\n",
    ]
    sections.append(PREMOTOR_LESION)
    (args.docs / "studies.md").write_text("\n".join(head) + "\n" + "\n".join(sections), encoding="utf-8")
    log.info("wrote %s", args.docs / "studies.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())

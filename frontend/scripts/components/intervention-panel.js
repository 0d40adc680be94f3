// Run page panel: evaluate the run's latest checkpoint with and without an intervention (silence,
// clamp, scale or drive units, a whole area or muscles during part of the trial) and compare the
// reaches, the muscles and the population activity per area.

import { api, errorMessage, validationErrors } from "../api.js";
import { react } from "./plots.js";
import { colour, fmt, h } from "../dom.js";

const KINDS = ["silence", "clamp", "scale", "drive"];
const COND = { intact: { name: "intact", dash: "solid", c: 0 }, intervened: { name: "intervened", dash: "dot", c: 3 } };

/** Indices from "0, 2-4" -> [0, 2, 3, 4] (null when the text is not such a list). */
export function parseIndices(text) {
  const out = [];
  for (const part of String(text).split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) return null;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 4096) return null;
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

export class InterventionPanel {
  constructor(container, runId, spec) {
    this.runId = runId;
    this.spec = spec ?? {};
    const areas = (this.spec.policy?.kind === "multi_area" ? this.spec.policy.areas : []) ?? [];
    this.kind = h("select", { "data-testid": "intervention-kind", "aria-label": "intervention" }, ...KINDS.map((k) => h("option", { value: k }, k)));
    const targets = [...(areas.length ? [["area", "a whole area"]] : []), ["units", "units"], ["muscles", "muscles"]];
    this.target = h("select", { "data-testid": "intervention-target", "aria-label": "target" }, ...targets.map(([v, l]) => h("option", { value: v }, l)));
    this.area = h("select", { "data-testid": "intervention-area", "aria-label": "area" }, ...(areas.length ? [] : [h("option", { value: "" }, "the network")]), ...areas.map((a) => h("option", { value: a.name }, `${a.name} (${a.size})`)));
    this.indices = h("input", { type: "text", placeholder: "0, 2-5", size: 10, "data-testid": "intervention-indices", "aria-label": "indices" });
    this.value = h("input", { type: "number", step: "any", value: "0", size: 6, "data-testid": "intervention-value", "aria-label": "value" });
    this.start = h("input", { type: "number", step: "any", min: 0, value: "0", size: 6, "data-testid": "intervention-start", "aria-label": "start" });
    this.end = h("input", { type: "number", step: "any", min: 0, placeholder: "trial end", size: 7, "data-testid": "intervention-end", "aria-label": "end" });
    this.button = h("button", { class: "primary", type: "button", "data-testid": "intervention-run" }, "Compare");
    this.button.addEventListener("click", () => this.compare());
    this.target.addEventListener("change", () => this.sync());
    this.kind.addEventListener("change", () => this.sync());
    this.valueLabel = h("span", {}, "value ");
    this.message = h("div", { "data-testid": "intervention-message" });
    this.summary = h("div", { "data-testid": "intervention-summary" });
    this.paths = h("div", { class: "plot", "data-testid": "intervention-paths" });
    this.muscles = h("div", { class: "plot tall", "data-testid": "intervention-muscles" }); // its legend below: two entries a muscle
    this.activity = h("div", { class: "plot", "data-testid": "intervention-activity" });
    // hidden until the first comparison: empty plot frames would leave a blank card
    this.plots = h("div", { hidden: true }, h("div", { class: "cols" }, this.paths, this.activity), this.muscles);
    this.areaLabel = h("label", {}, "area ", this.area);
    this.indicesLabel = h("label", {}, "indices ", this.indices);
    container.append(
      h("p", { class: "hint" }, "Evaluate the latest checkpoint on the run's evaluation batch with and without an intervention, like an optogenetic inactivation or stimulation: silence (0), clamp (= value), scale (× value) or drive (+ value) units, a whole area or muscles from start to end [s]."),
      h(
        "div",
        { class: "toolbar small", "data-testid": "intervention-panel" },
        h("label", {}, "do ", this.kind),
        h("label", {}, "to ", this.target),
        this.areaLabel,
        this.indicesLabel,
        h("label", {}, this.valueLabel, this.value),
        h("label", {}, "from ", this.start, " s"),
        h("label", {}, "to ", this.end, " s"),
        this.button
      ),
      this.message,
      this.summary,
      this.plots
    );
    this.sync();
  }

  sync() {
    const t = this.target.value;
    this.areaLabel.hidden = t === "muscles";
    this.indicesLabel.hidden = t === "area";
    this.value.disabled = this.kind.value === "silence";
    this.valueLabel.textContent = { silence: "value ", clamp: "value ", scale: "factor ", drive: "added " }[this.kind.value];
  }

  /** The intervention spec the controls describe (null with a message when they do not). */
  intervention() {
    const iv = { kind: this.kind.value, target: this.target.value, start: Number(this.start.value || 0) };
    if (this.kind.value !== "silence") iv.value = Number(this.value.value || 0);
    if (this.end.value !== "") iv.end = Number(this.end.value);
    if (iv.target === "area") iv.area = this.area.value;
    else {
      const idx = parseIndices(this.indices.value);
      if (!idx || !idx.length) {
        this.message.replaceChildren(h("div", { class: "errorbox small" }, "indices: list unit or muscle indices, e.g. 0, 2-5"));
        return null;
      }
      if (iv.target === "units") {
        iv.units = idx;
        if (this.area.value) iv.area = this.area.value;
      } else iv.muscles = idx;
    }
    return iv;
  }

  async compare() {
    const iv = this.intervention();
    if (!iv) return;
    this.message.replaceChildren(h("p", { class: "small muted" }, "Evaluating…"));
    this.button.disabled = true;
    try {
      const res = await api(`/api/runs/${this.runId}/interventions`, { method: "POST", body: { interventions: [iv] } });
      this.message.replaceChildren(h("p", { class: "small muted", "data-testid": "intervention-done" }, `Checkpoint at step ${res.step}: ${describe(iv)}.`));
      this.show(res);
    } catch (err) {
      const errs = validationErrors(err);
      const text = errs.length ? errs.map((e) => `${e.loc}: ${e.msg}`).join("; ") : errorMessage(err);
      this.message.replaceChildren(h("div", { class: "errorbox small", "data-testid": "intervention-error" }, text));
    } finally {
      this.button.disabled = false;
    }
  }

  show(res) {
    this.plots.hidden = false; // before plotting: Plotly sizes a plot from its visible box
    const s = res.summary;
    const ee = s.endpoint_error;
    const rows = [h("tr", {}, h("th", {}, "endpoint error [cm]"), h("td", {}, fmt(ee.intact * 100, 3)), h("td", {}, fmt(ee.intervened * 100, 3)), h("td", {}, fmt(ee.difference * 100, 3)))];
    for (const g of res.groups) {
      const r = s.activity_rms[g.name];
      rows.push(h("tr", { "data-group": g.name }, h("th", {}, `${g.name} RMS activity (units ${g.start}-${g.stop - 1})`), h("td", {}, fmt(r.intact, 4)), h("td", {}, fmt(r.intervened, 4)), h("td", {}, fmt(r.intervened - r.intact, 4))));
    }
    this.summary.replaceChildren(h("table", { class: "small" }, h("thead", {}, h("tr", {}, h("th", {}, ""), h("th", {}, "intact"), h("th", {}, "intervened"), h("th", {}, "difference"))), h("tbody", {}, ...rows)));
    const paths = [];
    for (const [key, c] of Object.entries(COND)) {
      res[key].hand.forEach((trial, b) => {
        paths.push({ x: trial.map((p) => p[0] * 100), y: trial.map((p) => p[1] * 100), mode: "lines", name: c.name, legendgroup: key, showlegend: b === 0, line: { color: colour(c.c), dash: c.dash, width: 1.5 } });
      });
    }
    const tg = res.intact.targets;
    paths.push({ x: tg.map((t) => t[0] * 100), y: tg.map((t) => t[1] * 100), mode: "markers", name: "targets", marker: { symbol: "circle-open", size: 11, color: "#000" } });
    react(this.paths, paths, { title: { text: "hand paths", font: { size: 12 } }, xaxis: { title: { text: "x [cm]" } }, yaxis: { title: { text: "y [cm]" }, scaleanchor: "x" } });
    const act = [];
    res.groups.forEach((g, i) => {
      for (const [key, c] of Object.entries(COND)) act.push({ x: res.activity.time, y: res.activity[key][g.name], mode: "lines", name: `${g.name} ${c.name}`, line: { color: colour(i), dash: c.dash } });
    });
    react(this.activity, act, { title: { text: "population RMS activity", font: { size: 12 } }, xaxis: { title: { text: "time [s]" } }, yaxis: { title: { text: "RMS activity" } } });
    const names = res.intact.muscle_names ?? [];
    const mus = [];
    names.forEach((name, m) => {
      for (const [key, c] of Object.entries(COND)) {
        const a = res[key].activation;
        const mean = res[key].time.map((_, k) => a.reduce((sum, trial) => sum + trial[k][m], 0) / a.length);
        mus.push({ x: res[key].time, y: mean, mode: "lines", name: `${name} ${c.name}`, legendgroup: name, line: { color: colour(m), dash: c.dash } });
      }
    });
    react(this.muscles, mus, { title: { text: "muscle activation (mean over trials)", font: { size: 12 } }, legend: { orientation: "h", x: 0, y: -0.26, yanchor: "top", font: { size: 11 } }, xaxis: { title: { text: "time [s]" } }, yaxis: { title: { text: "activation" } } });
  }
}

function describe(iv) {
  const what = iv.target === "area" ? `area ${iv.area}` : iv.target === "units" ? `units ${iv.units.join(", ")}${iv.area ? ` of ${iv.area}` : ""}` : `muscles ${iv.muscles.join(", ")}`;
  const how = iv.kind === "silence" ? "silenced" : iv.kind === "clamp" ? `clamped to ${iv.value}` : iv.kind === "scale" ? `scaled by ${iv.value}` : `driven by +${iv.value}`;
  return `${what} ${how} from ${iv.start} s${iv.end !== undefined ? ` to ${iv.end} s` : ""}`;
}

// Run page panel: dynamics analyses of the latest checkpoint (POST /api/runs/{id}/dynamics): the
// methods' parameters as a form built from their JSON schema, then the population trajectories in
// PC space with the fixed points (stable / unstable), tangling over time and the fixed points'
// eigenvalues; for a multi-area policy the trajectories and tangling of each area on their own.

import { api, errorMessage, validationErrors } from "../api.js";
import { react } from "./plots.js";
import { colour, fmt, h } from "../dom.js";
import { PARAM_LABELS, PARAM_UNITS, eigenTraces, paramFields, paramsBody, tanglingTraces, trajectoryTraces, viewGroups } from "../logic/dynamics.js";

export class DynamicsPanel {
  constructor(container, runId) {
    this.runId = runId;
    this.inputs = {};
    this.form = h("div", { class: "toolbar small", "data-testid": "dynamics-form" });
    this.button = h("button", { class: "primary", type: "button", "data-testid": "dynamics-run" }, "Run analysis");
    this.button.addEventListener("click", () => this.analyse());
    this.message = h("div", { "data-testid": "dynamics-message" });
    this.summary = h("p", { class: "small", "data-testid": "dynamics-summary" });
    this.group = h("select", { "data-testid": "dynamics-group", "aria-label": "population" });
    this.group.addEventListener("change", () => this.drawGroup());
    this.groupLabel = h("label", { class: "small" }, "population ", this.group);
    this.trajEl = h("div", { class: "plot tall", "data-testid": "dynamics-trajectories" });
    this.eigEl = h("div", { class: "plot tall", "data-testid": "dynamics-eigenvalues" });
    this.tangEl = h("div", { class: "plot", "data-testid": "dynamics-tangling" });
    // hidden until the first analysis: empty plot frames would leave a blank card
    this.plots = h("div", { hidden: true }, h("div", { class: "toolbar" }, this.groupLabel), h("div", { class: "cols" }, this.trajEl, this.eigEl), this.tangEl);
    container.append(
      h(
        "p",
        { class: "hint" },
        "Fixed and slow points of the trained network (Sussillo & Barak 2013: minimise q = ½|F(h) − h|² from states on its trajectories, input held at one condition's observation), their Jacobian eigenvalues (|λ| < 1: stable), trajectory tangling Q(t) (Russo et al. 2018) and the population trajectories of the evaluation trials in their leading principal components. Hover a field for its meaning; see docs/analyses.md."
      ),
      this.form,
      this.message,
      this.summary,
      this.plots
    );
    this.loadSchema();
  }

  async loadSchema() {
    try {
      this.fields = paramFields(await api("/api/schema/dynamics"));
    } catch (err) {
      this.message.replaceChildren(h("div", { class: "errorbox small" }, `Could not load the analysis parameters: ${errorMessage(err)}`));
      return;
    }
    const items = this.fields.map((f) => {
      const input = h("input", {
        type: "number",
        step: f.type === "integer" ? 1 : "any",
        name: f.name,
        value: f.default ?? "",
        placeholder: f.nullable ? "trial end" : "",
        size: 7,
        style: "width:6.5rem",
        title: `${f.name}: ${f.description}`,
        "aria-label": f.name,
        ...(f.min !== null && !f.exclusiveMin ? { min: f.min } : {}),
        ...(f.max !== null ? { max: f.max } : {}),
      });
      this.inputs[f.name] = input;
      const unit = PARAM_UNITS[f.name];
      return h("label", { title: `${f.name}: ${f.description}`, "data-field": f.name }, `${PARAM_LABELS[f.name] ?? f.name} `, input, unit ? ` ${unit}` : "", h("span", { class: "field-error", "data-error-for": f.name }));
    });
    this.form.replaceChildren(...items, this.button);
  }

  texts() {
    return Object.fromEntries(Object.entries(this.inputs).map(([k, el]) => [k, el.value]));
  }

  showErrors(errors) {
    for (const el of this.form.querySelectorAll("[data-error-for]")) el.textContent = "";
    for (const e of errors) {
      const slot = this.form.querySelector(`[data-error-for="${e.loc}"]`);
      if (slot) slot.textContent = ` ${e.msg}`;
    }
    const text = errors.map((e) => `${e.loc}: ${e.msg}`).join("; ");
    this.message.replaceChildren(h("div", { class: "errorbox small", "data-testid": "dynamics-error" }, text));
  }

  async analyse() {
    const { body, errors } = paramsBody(this.fields ?? [], this.texts());
    if (errors.length) return this.showErrors(errors);
    this.showErrors([]);
    this.message.replaceChildren(h("p", { class: "small muted" }, "Analysing the latest checkpoint (fixed-point searches take a few seconds)…"));
    this.button.disabled = true;
    const started = performance.now();
    try {
      const res = await api(`/api/runs/${this.runId}/dynamics`, { method: "POST", body });
      const secs = ((performance.now() - started) / 1000).toFixed(1);
      this.message.replaceChildren(h("p", { class: "small muted", "data-testid": "dynamics-done" }, `Checkpoint at step ${res.step}, analysed in ${secs} s.`));
      this.show(res);
    } catch (err) {
      const errs = validationErrors(err);
      if (errs.length) this.showErrors(errs);
      else this.message.replaceChildren(h("div", { class: "errorbox small", "data-testid": "dynamics-error" }, errorMessage(err)));
    } finally {
      this.button.disabled = false;
    }
  }

  show(res) {
    this.result = res;
    const fp = res.fixed_points;
    const nStable = fp.stable.filter(Boolean).length;
    const p = res.params;
    this.summary.replaceChildren(
      h("strong", {}, `${fp.q.length} fixed or slow point${fp.q.length === 1 ? "" : "s"}`),
      ` (${nStable} stable, ${fp.q.length - nStable} unstable) from ${fp.n_candidates} searches, ${fp.n_below_tolerance} of them below q = ${p.q_tolerance}; input held at condition ${p.condition}, step ${res.input_step}. `,
      `Peak tangling per condition: ${res.tangling_max.map((v) => fmt(v, 3)).join(", ")} 1/s².`
    );
    this.groups = viewGroups(res);
    this.group.replaceChildren(...this.groups.map((g, i) => h("option", { value: String(i) }, g.key ? `${g.name} (units ${g.start}-${g.stop - 1})` : g.name)));
    this.groupLabel.hidden = this.groups.length < 2;
    this.plots.hidden = false; // before plotting: Plotly sizes a plot from its visible box
    this.drawGroup();
    const eig = eigenTraces(fp);
    react(this.eigEl, eig, {
      title: { text: "eigenvalues of the state map at the fixed points", font: { size: 12 } },
      xaxis: { title: { text: "Re λ" }, zeroline: true },
      yaxis: { title: { text: "Im λ" }, scaleanchor: "x", zeroline: true },
      legend: { orientation: "h", x: 0, y: -0.2, yanchor: "top" },
      margin: { l: 55, r: 15, t: 30, b: 80 },
    });
  }

  drawGroup() {
    const g = this.groups?.[Number(this.group.value) || 0];
    if (!g) return;
    const res = this.result;
    const evr = g.explained_variance_ratio ?? [];
    const pct = (i) => (evr[i] !== undefined ? ` (${Math.round(evr[i] * 100)}% var.)` : "");
    react(this.trajEl, trajectoryTraces(g, res.fixed_points.stable, colour, res.targets), {
      title: { text: `${g.name}: trajectories of the evaluation trials`, font: { size: 12 } },
      xaxis: { title: { text: `PC1${pct(0)}` } },
      yaxis: { title: { text: `PC2${pct(1)}` } },
      legend: { orientation: "h", x: 0, y: -0.2, yanchor: "top" },
      margin: { l: 55, r: 15, t: 30, b: 80 },
    });
    react(this.tangEl, tanglingTraces(res.time, g.tangling, colour), {
      title: { text: `${g.name}: tangling Q(t) of each condition`, font: { size: 12 } },
      xaxis: { title: { text: "time [s]" } },
      yaxis: { title: { text: "Q(t) [1/s²]" }, rangemode: "tozero", exponentformat: "e" },
    });
  }
}

// Every network of an experiment: its condition, seed, status, final metric, a link to its run page
// and its notes (saved with PATCH /api/runs/{id} when the field is left).

import { api, errorMessage } from "../api.js";
import { fmt, h, toast } from "../dom.js";
import { conditionColour, experimentRuns, seedValues } from "../logic/experiments.js";

export class ExperimentNetworks {
  /** @param {HTMLElement} el */
  constructor(el) {
    this.el = el;
    this.body = h("tbody");
    this.head = h("thead");
    el.replaceChildren(h("table", { class: "runs", "data-testid": "networks-table" }, this.head, this.body));
    this.inputs = new Map();
  }

  /** The networks of `exp`, their run summaries and final `key` (from the aggregates `agg` where it has them). */
  draw(exp, agg, runsById, key) {
    const runs = experimentRuns(exp);
    const finals = new Map(seedValues(agg, key, runsById).flatMap((c) => c.values.map((v) => [v.run_id, v.value])));
    const n = exp?.conditions?.length ?? 0;
    this.head.replaceChildren(h("tr", {}, ...["Condition", "Seed", "Run", "Status", `final ${key}`, "Notes"].map((t) => h("th", {}, t))));
    this.body.replaceChildren(
      ...runs.map((r) => {
        const run = runsById[r.run_id];
        const input = this.input(r.run_id, run?.notes ?? "");
        return h(
          "tr",
          { "data-run": r.run_id },
          h("td", {}, h("span", { class: "swatch", style: `background:${conditionColour(r.condition, n)}` }), r.label),
          h("td", {}, String(r.seed)),
          h("td", {}, h("a", { href: `#/run?id=${r.run_id}`, "data-testid": "network-link" }, `#${r.run_id}`)),
          h("td", {}, run ? h("span", { class: `badge ${run.status}` }, run.status) : "—"),
          h("td", {}, fmt(finals.get(r.run_id))),
          h("td", {}, input)
        );
      })
    );
  }

  input(id, value) {
    let el = this.inputs.get(id);
    if (!el) {
      el = h("input", { type: "text", class: "run-notes", placeholder: "notes", value, "aria-label": `notes of run ${id}`, "data-testid": "run-notes" });
      el.dataset.saved = value;
      el.addEventListener("change", () => this.save(id, el));
      this.inputs.set(id, el);
    } else if (document.activeElement !== el && el.value === el.dataset.saved) {
      el.value = value;
      el.dataset.saved = value;
    }
    return el;
  }

  async save(id, el) {
    try {
      await api(`/api/runs/${id}`, { method: "PATCH", body: { notes: el.value } });
      el.dataset.saved = el.value;
      toast(`Saved the notes of run #${id}`);
    } catch (err) {
      toast(`Notes of run #${id} not saved: ${errorMessage(err)}`, { error: true });
    }
  }
}

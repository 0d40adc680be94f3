// The difference between the specs of two runs of an experiment: pick run A and run B, read the
// dotted paths where they differ with both values. Emits onChange(a, b) with the chosen ids.

import { api, errorMessage } from "../api.js";
import { h } from "../dom.js";
import { showLeaf, specDiff } from "../logic/specdiff.js";

export class SpecDiff {
  /** @param {HTMLElement} el @param {{onChange?: (a: number, b: number) => void}} opts */
  constructor(el, { onChange } = {}) {
    this.onChange = onChange;
    this.specs = new Map();
    this.runs = [];
    this.selA = h("select", { "data-testid": "diff-a", "aria-label": "run A", onchange: () => this.changed() });
    this.selB = h("select", { "data-testid": "diff-b", "aria-label": "run B", onchange: () => this.changed() });
    this.out = h("div", { "data-testid": "spec-diff" });
    el.replaceChildren(h("div", { class: "toolbar" }, h("label", {}, "A ", this.selA), h("label", {}, "B ", this.selB)), this.out);
  }

  /** The runs to choose from ([{run_id, label, seed}]) and the pair to show (defaults: the first two conditions' first seeds). */
  setRuns(runs, a, b) {
    const key = runs.map((r) => r.run_id).join(",");
    if (key !== this.runsKey) {
      this.runsKey = key;
      this.runs = runs;
      const opt = (r) => h("option", { value: r.run_id }, `#${r.run_id} · ${r.label} · seed ${r.seed}`);
      this.selA.replaceChildren(...runs.map(opt));
      this.selB.replaceChildren(...runs.map(opt));
    }
    const ids = runs.map((r) => r.run_id);
    const other = runs.find((r) => r.condition !== runs[0]?.condition) ?? runs[1];
    const pickA = ids.includes(Number(a)) ? Number(a) : ids[0];
    const pickB = ids.includes(Number(b)) ? Number(b) : (other?.run_id ?? ids[0]);
    if (pickA === undefined) return;
    if (Number(this.selA.value) === pickA && Number(this.selB.value) === pickB && this.shown) return;
    this.selA.value = String(pickA);
    this.selB.value = String(pickB);
    this.show();
  }

  changed() {
    this.onChange?.(Number(this.selA.value), Number(this.selB.value));
    this.show();
  }

  async spec(id) {
    if (!this.specs.has(id)) this.specs.set(id, api(`/api/runs/${id}/spec`).catch((err) => (this.specs.delete(id), Promise.reject(err))));
    return this.specs.get(id);
  }

  async show() {
    const a = Number(this.selA.value);
    const b = Number(this.selB.value);
    this.shown = `${a}:${b}`;
    const mine = this.shown;
    let sa;
    let sb;
    try {
      [sa, sb] = await Promise.all([this.spec(a), this.spec(b)]);
    } catch (err) {
      this.out.replaceChildren(h("div", { class: "errorbox" }, `Could not load the specs: ${errorMessage(err)}`));
      return;
    }
    if (mine !== this.shown) return;
    const diff = specDiff(sa, sb);
    if (a === b) return this.out.replaceChildren(h("p", { class: "hint" }, "Pick two different runs."));
    if (!diff.length) return this.out.replaceChildren(h("p", { class: "hint" }, "The two specs are identical."));
    this.out.replaceChildren(
      h(
        "table",
        { class: "runs diff-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Field"), h("th", {}, h("a", { href: `#/run?id=${a}` }, `#${a}`)), h("th", {}, h("a", { href: `#/run?id=${b}` }, `#${b}`)))),
        h("tbody", {}, ...diff.map((d) => h("tr", { "data-path": d.path }, h("td", { class: "path" }, d.path), h("td", {}, showLeaf(d.a)), h("td", {}, showLeaf(d.b)))))
      ),
      h("p", { class: "hint" }, `${diff.length} field${diff.length === 1 ? "" : "s"} differ.`)
    );
  }
}

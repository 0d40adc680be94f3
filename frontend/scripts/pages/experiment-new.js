// The experiment designer (#/experiments/new): a base run (a preset, or ?run=<id>'s spec), swept
// fields with their values, fixed fields, seeds, name and notes; it shows conditions x seeds and the
// server's estimate before launch, and the server's 422 errors at their fields. The URL keeps the design.

import { ApiError, api, errorMessage, getPresets, getSchema, validationErrors } from "../api.js";
import { SweepRow } from "../components/sweep-row.js";
import { debounce, duration, h, toast } from "../dom.js";
import { countConditions, designBody, designFromParams, designToParams, networksText, placeErrors } from "../logic/experiments.js";
import { leafPaths } from "../logic/leafpaths.js";
import { formModel } from "../logic/schema.js";

export async function mount(root, params, ctx) {
  const page = new DesignerPage(root, ctx);
  await page.init(params);
  return page;
}

class DesignerPage {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.title = "New experiment";
    this.rows = { sweep: [], set: [] };
    this.estimateSoon = debounce(() => this.estimate(), 350);
    this.estimateSeq = 0;
  }

  async init(params) {
    this.design = designFromParams(params);
    try {
      const [presets, schema] = await Promise.all([getPresets(), getSchema("run")]);
      this.presets = presets.runs ?? {};
      this.model = formModel(schema);
      if (this.design.run) this.source = await api(`/api/runs/${this.design.run}`);
    } catch (err) {
      this.root.replaceChildren(h("h1", {}, "New experiment"), h("div", { class: "errorbox" }, `Could not load the designer: ${errorMessage(err)}`));
      return;
    }
    if (!this.design.run && !this.presets[this.design.preset]) this.design.preset = this.presets.tiny_point_mass ? "tiny_point_mass" : Object.keys(this.presets)[0] ?? "";
    if (!this.design.sweep.length) this.design.sweep.push({ path: "", text: "" });
    this.render();
    this.changed();
  }

  baseSpec() {
    return this.source?.spec ?? this.presets[this.design.preset] ?? {};
  }

  render() {
    this.leaves = leafPaths(this.model, this.baseSpec());
    this.types = Object.fromEntries(this.leaves.map((l) => [l.path, l.type]));
    const d = this.design;
    const source = this.source
      ? h("div", {}, "Base run: ", h("a", { href: `#/run?id=${this.source.id}` }, `#${this.source.id} ${this.source.name}`), " ", h("a", { href: "#/experiments/new", class: "small" }, "(start from a preset instead)"))
      : h(
          "label",
          {},
          "Run preset ",
          (this.presetSel = h(
            "select",
            { "data-testid": "experiment-preset", onchange: () => this.setPreset(this.presetSel.value) },
            ...Object.keys(this.presets).map((n) => h("option", { value: n, selected: n === d.preset }, n))
          ))
        );
    this.sweepBox = h("div", { class: "sweep-rows", "data-testid": "sweep-rows" });
    this.setBox = h("div", { class: "sweep-rows", "data-testid": "set-rows" });
    this.seeds = h("input", { type: "number", min: 1, max: 64, step: 1, value: d.seeds, "data-testid": "experiment-seeds", "aria-label": "seeds" });
    this.name = h("input", { type: "text", value: d.name, placeholder: "name (optional)", maxlength: 128, "data-testid": "experiment-name", "aria-label": "name" });
    this.notes = h("textarea", { rows: 3, placeholder: "what this experiment asks, what you expect…", "data-testid": "experiment-notes", "aria-label": "notes" }, d.notes);
    this.seeds.addEventListener("input", () => this.changed());
    this.name.addEventListener("input", () => this.changed());
    this.notes.addEventListener("input", () => this.changed());
    this.summary = h("div", { class: "estimate", "data-testid": "experiment-estimate" });
    this.errorsBox = h("div", { "data-testid": "experiment-errors" });
    this.launchBtn = h("button", { class: "primary", onclick: () => this.launch(), "data-testid": "launch-experiment" }, "Launch experiment");
    const err = (key) => h("div", { class: "field-error", "data-error-for": key });
    this.fieldErrors = { seeds: err("seeds"), name: err("name"), notes: err("notes"), preset: err("preset") };
    this.root.replaceChildren(
      h("h1", {}, "New experiment"),
      h("p", { class: "hint" }, "Pick the fields to vary and their values: every combination is a condition, and each condition trains several seeds together (a replicate ensemble). The experiment page then compares the conditions with means and 95% intervals."),
      h("section", { class: "panel" }, h("h2", {}, "1 · Base run"), source, this.fieldErrors.preset),
      h(
        "section",
        { class: "panel" },
        h("h2", {}, "2 · Swept fields"),
        h("p", { class: "hint" }, "Search a field of the run spec (train.lr, policy.hidden_size, task.perturbations.0.gain…) and list its values, comma separated; each value is read as JSON where it can be ([], true, 0.01, {\"kind\": …})."),
        this.sweepBox,
        h("button", { onclick: () => this.addRow("sweep"), "data-testid": "add-sweep" }, "+ Sweep a field")
      ),
      h(
        "section",
        { class: "panel" },
        h("h2", {}, "3 · Fixed changes ", h("span", { class: "small muted" }, "(optional: the same in every condition)")),
        this.setBox,
        h("button", { onclick: () => this.addRow("set"), "data-testid": "add-set" }, "+ Change a field")
      ),
      h(
        "section",
        { class: "panel" },
        h("h2", {}, "4 · Seeds, name and notes"),
        h("div", { class: "field" }, h("label", {}, "Seeds per condition"), h("div", { class: "control" }, this.seeds, h("span", { class: "help" }, "networks per condition, seeds base + 0 … n − 1; 2 is the least that gives an interval"), this.fieldErrors.seeds)),
        h("div", { class: "field" }, h("label", {}, "Name"), h("div", { class: "control" }, this.name, this.fieldErrors.name)),
        h("div", { class: "field" }, h("label", {}, "Notes"), h("div", { class: "control" }, this.notes, this.fieldErrors.notes))
      ),
      h("section", { class: "panel launch-panel" }, this.summary, this.errorsBox, h("div", { class: "toolbar" }, this.launchBtn, h("a", { href: "#/experiments", class: "button" }, "All experiments")))
    );
    this.renderRows();
  }

  renderRows() {
    for (const part of ["sweep", "set"]) {
      const box = part === "sweep" ? this.sweepBox : this.setBox;
      this.rows[part] = this.design[part].map(
        (row, i) =>
          new SweepRow({
            leaves: this.leaves,
            row,
            mode: part,
            key: `${part}.${i}`,
            onChange: (r) => {
              this.design[part][i] = r;
              this.changed();
            },
            onRemove: () => {
              this.design[part].splice(i, 1);
              this.renderRows();
              this.changed();
            },
          })
      );
      box.replaceChildren(...this.rows[part].map((r) => r.el));
    }
  }

  addRow(part) {
    this.design[part].push({ path: "", text: "" });
    this.renderRows();
    this.rows[part].at(-1).picker.input.focus();
    this.changed();
  }

  setPreset(name) {
    this.design.preset = name;
    this.render();
    this.changed();
  }

  readForm() {
    this.design.seeds = Number(this.seeds.value);
    this.design.name = this.name.value.trim();
    this.design.notes = this.notes.value;
  }

  /** Keep the URL, count the networks and ask the server for an estimate. */
  changed() {
    this.readForm();
    this.ctx.setParams(designToParams(this.design));
    const n = countConditions(this.design, this.types);
    this.summaryLocal = `${networksText(n, this.design.seeds || 0)}`;
    this.showSummary(null);
    this.estimateSoon();
  }

  request() {
    return designBody(this.design, { types: this.types, baseSpec: this.source?.spec ?? null });
  }

  showSummary(est, pending = true) {
    const fixed = this.design.set.find((r) => r.path === "train.n_iterations");
    const its = est?.n_conditions ? Math.round(est.iterations / est.n_conditions) : Number(fixed?.text) || this.baseSpec()?.train?.n_iterations;
    const parts = [h("strong", { "data-testid": "networks-count" }, est ? networksText(est.n_conditions, est.seeds) : this.summaryLocal)];
    if (its) parts.push(h("span", { class: "muted" }, ` · ${its} iterations each`));
    if (est) parts.push(h("span", {}, " · estimated ", h("strong", { "data-testid": "estimated-time" }, duration(est.estimated_seconds))));
    else if (pending) parts.push(h("span", { class: "muted" }, " · estimating…"));
    this.summary.replaceChildren(...parts);
  }

  async estimate() {
    const { body, errors } = this.request();
    const seq = ++this.estimateSeq;
    if (!body) {
      this.showErrors(this.touchedErrors(errors), []);
      this.showSummary(null, false);
      return;
    }
    try {
      const est = await api("/api/experiments/estimate", { method: "POST", body });
      if (seq !== this.estimateSeq) return;
      this.showErrors({}, []);
      this.showSummary(est);
    } catch (err) {
      if (seq !== this.estimateSeq) return;
      this.showErrors({}, this.serverErrors(err));
      this.showSummary(null, false);
    }
  }

  /** Row errors of rows the user has typed into (a fresh empty row is not yet wrong). */
  touchedErrors(errors) {
    const blank = (key) => {
      const [part, i] = key.split(".");
      const row = this.design[part]?.[Number(i)];
      return row && !row.path && !row.text.trim();
    };
    return Object.fromEntries(Object.entries(errors).filter(([k]) => !blank(k)));
  }

  serverErrors(err) {
    const list = validationErrors(err);
    if (list.length) return list;
    return [{ loc: "", msg: err instanceof ApiError && err.status === 404 ? "this server has no experiments API" : errorMessage(err) }];
  }

  /** Local row errors ({key: message}) and server errors ([{loc, msg}]) at their fields. */
  showErrors(local, server) {
    const placed = placeErrors(server, this.design);
    for (const [k, m] of Object.entries(local)) (placed[k] ??= []).push(m);
    for (const part of ["sweep", "set"]) this.rows[part].forEach((r, i) => r.showErrors(placed[`${part}.${i}`] ?? []));
    for (const [k, el] of Object.entries(this.fieldErrors)) el.textContent = (placed[k] ?? []).join("; ");
    this.seeds.classList.toggle("invalid", !!placed.seeds);
    const loose = placed[""] ?? [];
    this.errorsBox.replaceChildren(...(loose.length ? [h("div", { class: "errorbox" }, ...loose.map((m) => h("div", {}, m)))] : []));
    return Object.keys(placed).length;
  }

  async launch() {
    this.readForm();
    const { body, errors } = this.request();
    if (!body) {
      this.showErrors(errors, []);
      return;
    }
    this.launchBtn.disabled = true;
    try {
      const exp = await api("/api/experiments", { method: "POST", body });
      toast(`Launched ${exp.name}: ${networksText(exp.n_conditions, exp.seeds)}`);
      this.ctx.go("experiment", { id: exp.id });
    } catch (err) {
      this.showErrors({}, this.serverErrors(err));
      toast(`Not launched: ${errorMessage(err)}`, { error: true });
    } finally {
      this.launchBtn.disabled = false;
    }
  }

  update(params) {
    const next = designFromParams(params);
    if (next.run !== this.design.run || (!next.run && next.preset && next.preset !== this.design.preset)) {
      this.root.replaceChildren();
      this.source = null;
      this.rows = { sweep: [], set: [] };
      this.init(params);
    }
  }

  destroy() {
    this.estimateSoon.cancel();
  }
}

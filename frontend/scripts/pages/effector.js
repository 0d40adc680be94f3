// Effector builder: skeleton, muscles, path points (drag on the drawing), live geometry plots and
// validation; start from a preset, save, duplicate, export and import JSON.

import { api, errorMessage, getPresets, getSchema, items, validationErrors } from "../api.js";
import { GeometryPlots } from "../components/geometry-plots.js";
import { MuscleEditor } from "../components/muscle-editor.js";
import { SchemaForm } from "../components/schema-form.js";
import { SkeletonDrawing } from "../components/skeleton-svg.js";
import { debounce, downloadJson, h, toast } from "../dom.js";
import { duplicate, SKELETON_CHOICES, setSkeleton, skeletonChoice } from "../logic/effector.js";
import { jointLimits, referencePosture } from "../logic/geometry.js";
import { assignErrors, formModel, normalizeLoc } from "../logic/schema.js";

export async function mount(root, params, ctx) {
  const page = new EffectorPage(root, ctx);
  await page.init(params);
  return page;
}

class EffectorPage {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.title = "Effector builder";
    this.errors = [];
    this.warnings = [];
    this.savedId = null;
    this.dirty = false;
    this.validateSoon = debounce(() => this.validate(), 250);
    this.sweepSoon = debounce(() => this.geometry(this.spec), 200);
    this.follow = false;
  }

  async init(params) {
    this.follow = params.follow === "1";
    this.root.append(h("h1", {}, "Effector builder"), h("p", { class: "hint" }, "Loading presets and schema…"));
    try {
      const [presets, schema, saved] = await Promise.all([getPresets(), getSchema("effector"), api("/api/effectors")]);
      this.presets = presets.effectors;
      this.model = formModel(schema);
      this.saved = items(saved);
    } catch (err) {
      this.root.replaceChildren(h("h1", {}, "Effector builder"), h("div", { class: "errorbox" }, `Could not load the builder: ${errorMessage(err)}`));
      return;
    }
    this.layout();
    await this.load(params);
  }

  async load(params) {
    this.selected = Number(params.muscle ?? 0) || 0;
    this.joint = Number(params.joint ?? 0) || 0;
    let spec;
    if (params.id) {
      try {
        const row = await api(`/api/effectors/${params.id}`);
        spec = row.spec;
        this.savedId = row.id;
        this.showOrigin(null, `saved: ${row.name}`);
        this.savedSel.value = String(row.id);
      } catch (err) {
        toast(`Saved effector ${params.id}: ${errorMessage(err)}`, { error: true });
      }
    }
    if (!spec) {
      const name = this.presets[params.preset] ? params.preset : this.presets.arm210 ? "arm210" : Object.keys(this.presets)[0];
      spec = JSON.parse(JSON.stringify(this.presets[name]));
      this.savedId = null;
      this.ctx.setParams({ preset: name, id: null });
      this.showOrigin(name);
    }
    this.setSpec(spec, true);
    this.dirty = false;
    this.updateStatus();
  }

  layout() {
    this.presetSel = h("select", { "data-testid": "preset-select", "aria-label": "start from preset" }, ...Object.keys(this.presets).map((n) => h("option", { value: n }, n)));
    this.presetSel.addEventListener("change", () => {
      this.ctx.setParams({ preset: this.presetSel.value, id: null, muscle: 0 });
      this.load({ preset: this.presetSel.value });
    });
    this.savedSel = h("select", { "aria-label": "open a saved effector" }, h("option", { value: "" }, "— open saved —"), ...this.saved.map((r) => h("option", { value: r.id }, `${r.name} (#${r.id})`)));
    this.savedSel.addEventListener("change", () => {
      if (!this.savedSel.value) return;
      this.ctx.setParams({ id: this.savedSel.value, preset: null, muscle: 0 });
      this.load({ id: this.savedSel.value });
    });
    const file = h("input", { type: "file", accept: "application/json,.json", hidden: true, "data-testid": "import-file" });
    file.addEventListener("change", () => this.importFile(file));
    this.status = h("span", { class: "small muted", "data-testid": "save-status" });
    const toolbar = h(
      "div",
      { class: "toolbar panel" },
      h("label", {}, "Start from ", this.presetSel),
      this.savedSel,
      h("span", { class: "grow" }),
      this.status,
      h("button", { class: "primary", "data-testid": "save", onclick: () => this.save() }, "Save"),
      h("button", { onclick: () => this.duplicate() }, "Duplicate"),
      h("button", { onclick: () => downloadJson(this.spec, `${this.spec.name}.json`) }, "Export JSON"),
      h("button", { onclick: () => file.click() }, "Import JSON"),
      file,
      (this.useLink = h("a", { class: "button", href: "#/task", title: "open the task designer with this effector (save it first)" }, "Use in a task →"))
    );
    this.skeletonButtons = h("div", { class: "segmented", role: "group", "aria-label": "skeleton" });
    this.skeletonForm = h("div");
    this.generalForm = h("div");
    this.settingsForm = h("div");
    this.muscleBox = h("div");
    this.summary = h("div", { "data-testid": "error-summary" });
    this.warningBox = h("div", { "data-testid": "physiology-warnings" });
    const drawBox = h("div");
    this.postureBox = h("div", { class: "scrub small" });
    const plotsBox = h("div");
    this.drawing = new SkeletonDrawing(drawBox, {
      onDrag: (i, j, p, done) => this.dragged(i, j, p, done),
      onSelect: (i) => this.select(i),
    });
    this.plots = new GeometryPlots(plotsBox, {
      follow: this.follow,
      onJoint: (j) => {
        this.joint = j;
        this.ctx.setParams({ joint: j });
      },
      onFollow: (on) => {
        this.follow = on;
        this.ctx.setParams({ follow: on ? 1 : null });
        if (!this.errors.length) this.sweepSoon();
      },
    });
    this.muscles = new MuscleEditor(this.muscleBox, this.model.fields.find((f) => f.key === "muscles").node.items, {
      onChange: (spec, structural) => this.setSpec(spec, structural),
      onSelect: (i, spec) => this.select(i, spec),
    });
    this.root.replaceChildren(
      h("h1", {}, "Effector builder"),
      h("p", { class: "hint" }, "An effector is a skeleton moved by muscles. Pick a skeleton, add muscles, drag their attachment points, and watch their lengths and moment arms change. Errors show next to the field at fault."),
      toolbar,
      this.summary,
      this.warningBox,
      h(
        "div",
        { class: "cols" },
        h(
          "div",
          {},
          h("section", { class: "panel" }, h("h2", {}, "Effector"), this.generalForm),
          h("section", { class: "panel" }, h("h2", {}, "Skeleton"), this.skeletonButtons, this.skeletonForm),
          h("section", { class: "panel" }, h("h2", {}, "Muscles"), this.muscleBox),
          h("section", { class: "panel" }, h("h2", {}, "Integration"), this.settingsForm)
        ),
        h("div", {}, h("section", { class: "panel" }, h("h2", {}, "Drawing (reference posture)"), drawBox, this.postureBox), h("section", { class: "panel" }, plotsBox))
      )
    );
  }

  /**
   * Show where the spec came from in the two menus: a preset's name in "Start from", or (a saved,
   * imported or duplicated effector) a neutral "— saved: NAME —" entry there instead of a preset
   * it is not.
   */
  showOrigin(preset, label = "") {
    this.presetSel.querySelector("option[data-origin]")?.remove();
    if (preset) {
      this.presetSel.value = preset;
      this.savedSel.value = "";
      return;
    }
    const option = h("option", { value: "", "data-origin": "", disabled: true }, `— ${label} —`);
    this.presetSel.prepend(option);
    this.presetSel.value = "";
    option.selected = true;
    if (!label.startsWith("saved:")) this.savedSel.value = "";
  }

  /** Replace the spec; `structural` re-renders the forms (otherwise only dependants update). */
  setSpec(spec, structural) {
    const skeletonChanged = !this.spec || JSON.stringify(spec.skeleton) !== JSON.stringify(this.spec.skeleton);
    this.spec = spec;
    this.muscles.spec = spec;
    this.dirty = true;
    this.selected = Math.min(this.selected, spec.muscles.length - 1);
    if (structural) this.renderForms();
    if (structural || skeletonChanged) this.renderPosture(structural);
    this.drawing.draw(spec, this.q, this.selected);
    this.updateStatus();
    this.validateSoon();
  }

  renderForms() {
    const spec = this.spec;
    const choice = skeletonChoice(spec.skeleton);
    this.skeletonButtons.replaceChildren(
      ...SKELETON_CHOICES.map((c) => {
        const b = h("button", { type: "button", class: c.id === choice ? "on" : "", "data-skeleton": c.id }, c.label);
        b.addEventListener("click", () => c.id !== skeletonChoice(this.spec.skeleton) && this.setSpec(setSkeleton(this.spec, c.id), true));
        return b;
      })
    );
    const skNode = this.model.fields.find((f) => f.key === "skeleton").node;
    const variant = skNode.variants[spec.skeleton.kind];
    this.forms = [
      new SchemaForm(this.skeletonForm, variant, spec.skeleton, {
        prefix: "skeleton",
        onChange: (v) => this.setSpec({ ...this.spec, skeleton: v }, false),
      }),
      new SchemaForm(this.generalForm, this.model, spec, {
        omit: ["skeleton", "muscles", "dt", "integration", "n_ministeps", "damping", "motornet_compat"],
        onChange: (v) => this.setSpec({ ...this.spec, name: v.name, description: v.description }, false),
      }),
      new SchemaForm(this.settingsForm, this.model, spec, {
        omit: ["skeleton", "muscles", "name", "description"],
        onChange: (v) => this.setSpec({ ...v, skeleton: this.spec.skeleton, muscles: this.spec.muscles, name: this.spec.name, description: this.spec.description }, false),
      }),
    ];
    this.muscles.render(spec, this.selected);
    this.showErrors();
  }

  renderPosture(reset) {
    const limits = jointLimits(this.spec.skeleton);
    if (reset || !this.q || this.q.length !== limits.length) this.q = referencePosture(this.spec.skeleton);
    const isPoint = this.spec.skeleton.kind === "point_mass";
    const names = isPoint ? ["x", "y"] : ["shoulder", "elbow", "wrist", "j4", "j5", "j6", "j7", "j8"];
    this.postureBox.replaceChildren(
      h("span", { class: "muted" }, "posture:"),
      ...limits.map(([lo, hi], i) => {
        const r = h("input", { type: "range", min: lo, max: hi, step: (hi - lo) / 200, value: this.q[i], "aria-label": `${names[i]} angle` });
        r.addEventListener("input", () => {
          this.q = this.q.map((v, k) => (k === i ? Number(r.value) : v));
          this.drawing.draw(this.spec, this.q, this.selected);
          if (this.follow && !this.errors.length) this.sweepSoon();
        });
        return h("label", {}, names[i], " ", r);
      })
    );
  }

  select(i, spec) {
    this.selected = i;
    this.ctx.setParams({ muscle: i });
    if (spec) this.setSpec(spec, true);
    else {
      this.renderForms();
      this.drawing.draw(this.spec, this.q, i);
    }
    this.plots.select(i);
  }

  dragged(i, j, point, done) {
    const muscles = this.spec.muscles.map((m, k) =>
      k === i ? { ...m, geometry: { ...m.geometry, points: m.geometry.points.map((p, n) => (n === j ? point : p)) } } : m
    );
    this.spec = { ...this.spec, muscles };
    this.dirty = true;
    this.drawing.draw(this.spec, this.q, this.selected);
    this.muscles.updatePoints(this.spec);
    this.updateStatus();
    this.validateSoon();
    if (done) this.validateSoon.flush();
  }

  async validate() {
    const spec = this.spec;
    let result;
    try {
      result = await api("/api/validate/effector", { method: "POST", body: spec });
    } catch (err) {
      this.plots.setStatus(errorMessage(err));
      return;
    }
    if (spec !== this.spec) return;
    this.errors = (result.errors ?? []).map((e) => ({ ...e, loc: normalizeLoc(this.model, e.loc) }));
    this.showErrors();
    this.updateStatus();
    if (result.valid) await this.geometry(spec);
    else {
      this.showWarnings([]);
      this.plots.setStatus("fix the errors to update the plots");
    }
  }

  async geometry(spec) {
    this.plots.setStatus("computing…");
    const posture = this.follow ? this.q : null;
    try {
      const data = await api("/api/geometry", { method: "POST", body: { effector: spec, posture } });
      if (spec !== this.spec || posture !== (this.follow ? this.q : null)) return;
      this.plots.set(data, { joint: this.joint, selected: this.selected, pointMass: spec.skeleton.kind === "point_mass" });
      this.showWarnings(data.warnings ?? []);
      this.plots.setStatus(posture ? "other joints at the posture sliders" : "other joints at mid-range");
    } catch (err) {
      this.plots.setStatus(errorMessage(err));
    }
  }

  showErrors() {
    const forms = this.forms ?? [];
    const paths = [...forms.flatMap((f) => f.paths()), ...this.muscles.forms.flatMap((f) => f.paths()), ...this.muscles.pointPaths()];
    const byPath = assignErrors(this.errors, paths);
    for (const f of [...forms, ...this.muscles.forms]) f.showErrors(byPath);
    this.muscles.showPointErrors(this.errors);
    this.muscles.markErrors(this.errors);
    const uniq = [...new Map((byPath[""] ?? []).map((e) => [`${e.loc}|${e.msg}`, e])).values()];
    this.summary.replaceChildren(
      ...(uniq.length
        ? [h("div", { class: "errorbox" }, h("strong", {}, "Problems elsewhere in the spec:"), h("ul", {}, ...uniq.map((e) => h("li", {}, `${e.loc || "effector"}: ${e.msg}`))))]
        : [])
    );
  }

  /** Muscles sized for another path (from POST /api/geometry): valid specs that will not behave. */
  showWarnings(warnings) {
    this.warnings = warnings;
    this.warningBox.replaceChildren(
      ...(warnings.length
        ? [
            h(
              "div",
              { class: "warnbox" },
              h("strong", {}, "Implausible muscles (valid, but they will not behave): "),
              "the optimal fibre length plus the tendon slack length should be close to the muscle's path length at the reference posture.",
              h("ul", {}, ...warnings.map((w) => h("li", { "data-muscle": w.muscle }, `${w.name}: ${w.message}`)))
            ),
          ]
        : [])
    );
    this.updateStatus();
  }

  updateStatus() {
    const key = this.savedId ? `saved:${this.savedId}` : this.presets[this.spec?.name] && !this.dirty ? `preset:${this.spec.name}` : null;
    this.useLink.href = key ? `#/task?effector=${encodeURIComponent(key)}` : "#/task";
    const n = this.errors.length;
    const w = this.warnings.length;
    const state = n ? `${n} error${n > 1 ? "s" : ""}` : w ? `valid, ${w} warning${w > 1 ? "s" : ""}` : "valid";
    const saved = this.savedId ? `saved #${this.savedId}${this.dirty ? " (unsaved changes)" : ""}` : "not saved";
    this.status.textContent = `${state} · ${saved}`;
  }

  async save() {
    const body = { name: this.spec.name, spec: this.spec };
    try {
      const row = this.savedId
        ? await api(`/api/effectors/${this.savedId}`, { method: "PUT", body })
        : await api("/api/effectors", { method: "POST", body });
      this.savedId = row.id;
      this.dirty = false;
      this.ctx.setParams({ id: row.id, preset: null });
      const option = [...this.savedSel.options].find((o) => o.value === String(row.id));
      if (option) option.textContent = `${row.name} (#${row.id})`;
      else this.savedSel.append(h("option", { value: row.id }, `${row.name} (#${row.id})`));
      this.showOrigin(null, `saved: ${row.name}`);
      this.savedSel.value = String(row.id);
      toast(`Saved “${row.name}” as effector #${row.id}`);
    } catch (err) {
      const errs = validationErrors(err).map((e) => ({ ...e, loc: normalizeLoc(this.model, e.loc) }));
      if (errs.length) {
        this.errors = errs;
        this.showErrors();
      }
      toast(`Not saved: ${errorMessage(err)}`, { error: true });
    }
    this.updateStatus();
  }

  duplicate() {
    this.savedId = null;
    this.ctx.setParams({ id: null, preset: null });
    this.setSpec(duplicate(this.spec), true);
    this.showOrigin(null, `copy: ${this.spec.name}`);
    toast("Duplicated: save to keep the copy");
  }

  async importFile(input) {
    const f = input.files?.[0];
    if (!f) return;
    try {
      const data = JSON.parse(await f.text());
      const spec = data.skeleton ? data : data.spec?.skeleton ? data.spec : data.effector?.skeleton ? data.effector : null;
      if (!spec) throw new Error("no effector spec (an object with skeleton and muscles) in this file");
      this.savedId = null;
      this.ctx.setParams({ id: null, preset: null, muscle: 0 });
      this.selected = 0;
      this.setSpec(spec, true);
      this.showOrigin(null, `imported: ${f.name}`);
      toast(`Imported ${f.name}`);
    } catch (err) {
      toast(`Import failed: ${err.message}`, { error: true });
    }
    input.value = "";
  }

  destroy() {
    this.validateSoon.cancel();
    this.sweepSoon.cancel();
  }
}

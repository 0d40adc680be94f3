// Task designer: the task (targets, timing, delays, noise, perturbations), the policy, the loss
// weights and the training settings, as forms generated from the run schema; save the task or
// launch a run. The form's edits are kept in sessionStorage as a draft, so leaving the page and
// coming back restores them.

import { api, errorMessage, getPresets, getSchema, items, validationErrors } from "../api.js";
import { AreaDiagram } from "../components/area-diagram.js";
import { SchemaForm } from "../components/schema-form.js";
import { TaskPreview } from "../components/task-preview.js";
import { debounce, downloadJson, h, toast } from "../dom.js";
import { assignErrors, formModel, normalizeLoc } from "../logic/schema.js";
import { draftApplies, runLabels } from "../logic/task.js";

const DRAFT_KEY = "motornet.taskDraft";

function readDraft() {
  try {
    return JSON.parse(sessionStorage.getItem(DRAFT_KEY) ?? "null");
  } catch {
    return null;
  }
}

const SECTIONS = [
  { key: "task", title: "Task", help: "What the network must do: task type, targets, timing, sensory delays and noise, perturbations." },
  { key: "policy", title: "Policy network", help: "The controller: observations in, muscle excitations out. Kind multi_area: named areas with their own size and time constant, wired by connections (delay, density), each reached by the inputs it lists; only areas with to_muscles drive the muscles." },
  { key: "loss", title: "Loss weights", help: "What training minimises: a weighted sum of named terms (0 turns a term off)." },
  { key: "train", title: "Training", help: "Iterations, batch size, learning rate, seed and device." },
  { key: "interventions", title: "Interventions", help: "Silence, clamp, scale or drive units, areas or muscles during part of every trial, in training and evaluation (none: an intact network)." },
];

export async function mount(root, params, ctx) {
  const page = new TaskPage(root, ctx);
  await page.init(params);
  return page;
}

class TaskPage {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.title = "Task designer";
    this.errors = [];
    this.forms = {};
    this.validateSoon = debounce(() => this.validate(), 300);
  }

  async init(params) {
    this.root.append(h("h1", {}, "Task designer"), h("p", { class: "hint" }, "Loading…"));
    try {
      const [presets, schema, effectors, tasks] = await Promise.all([getPresets(), getSchema("run"), api("/api/effectors"), api("/api/tasks")]);
      this.presets = presets;
      this.model = formModel(schema);
      this.savedEffectors = items(effectors);
      this.savedTasks = items(tasks);
    } catch (err) {
      this.root.replaceChildren(h("h1", {}, "Task designer"), h("div", { class: "errorbox" }, `Could not load the designer: ${errorMessage(err)}`));
      return;
    }
    const runNames = Object.keys(this.presets.runs);
    const draft = readDraft();
    const restore = draftApplies(draft, params, runNames);
    const preset = restore ? draft.preset : this.presets.runs[params.preset] ? params.preset : runNames.includes("tutorial_point_mass") ? "tutorial_point_mass" : runNames[0];
    this.presetName = preset;
    if (restore) {
      this.spec = draft.spec;
      this.effectorKey = draft.effector ?? this.matchEffector(this.spec.effector);
      this.taskKey = draft.task ?? null;
      this.labelsEdited = !!draft.labelsEdited;
    } else {
      this.spec = JSON.parse(JSON.stringify(this.presets.runs[preset]));
      this.effectorKey = params.effector ?? this.matchEffector(this.spec.effector);
      this.taskKey = null;
      this.labelsEdited = false;
    }
    this.layout();
    if (params.effector && (!restore || params.effector !== this.effectorKey)) await this.setEffector(params.effector, false);
    if (params.task && (!restore || params.task !== this.taskKey)) await this.loadTask(params.task);
    this.effectorSel.value = this.effectorKey;
    this.taskSel.value = this.taskKey ?? "";
    this.relabel();
    this.ctx.setParams({ preset, effector: this.effectorKey, task: this.taskKey });
    this.showDraftNote(restore);
    this.renderForms();
    this.saveDraft();
    this.validate();
  }

  /** Keep the form's state for this browser tab (sessionStorage), restored by the next visit. */
  saveDraft() {
    const draft = { preset: this.presetName, effector: this.effectorKey, task: this.taskKey, labelsEdited: this.labelsEdited, spec: this.spec };
    try {
      sessionStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
    } catch {
      // storage full or disabled: the URL still holds preset, effector and task
    }
  }

  showDraftNote(restored) {
    this.draftNote.replaceChildren(
      ...(restored
        ? [
            h("span", {}, "Restored your edits from earlier in this tab. "),
            h("button", { type: "button", "data-testid": "discard-draft", onclick: () => this.startOver() }, "Start over from the preset"),
          ]
        : [])
    );
    this.draftNote.hidden = !restored;
  }

  /** Drop the draft: the preset as it is, with its own effector. */
  startOver() {
    sessionStorage.removeItem(DRAFT_KEY);
    this.spec = JSON.parse(JSON.stringify(this.presets.runs[this.presetName]));
    this.effectorKey = this.matchEffector(this.spec.effector);
    this.taskKey = null;
    this.labelsEdited = false;
    this.effectorSel.value = this.effectorKey;
    this.taskSel.value = "";
    this.effectorNote.textContent = "";
    this.showDraftNote(false);
    this.ctx.setParams({ preset: this.presetName, effector: this.effectorKey, task: null });
    this.changed(true);
  }

  /** Name and tag the run after its effector and task, unless the user typed their own. */
  relabel() {
    if (this.labelsEdited) return false;
    const { name, tags } = runLabels(this.presets.runs[this.presetName], this.spec);
    if (name === this.spec.name && JSON.stringify(tags) === JSON.stringify(this.spec.tags)) return false;
    this.spec = { ...this.spec, name, tags };
    return true;
  }

  matchEffector(spec) {
    for (const [name, e] of Object.entries(this.presets.effectors)) if (JSON.stringify(e) === JSON.stringify(spec)) return `preset:${name}`;
    return "run";
  }

  option(value, label, selected) {
    return h("option", { value, selected: value === selected }, label);
  }

  layout() {
    const presetSel = h("select", { "data-testid": "run-preset" }, ...Object.keys(this.presets.runs).map((n) => this.option(n, n, this.presetName)));
    presetSel.addEventListener("change", () => this.setPreset(presetSel.value));
    this.effectorSel = h(
      "select",
      { "data-testid": "effector-select" },
      this.option("run", "the preset's effector", this.effectorKey),
      h("optgroup", { label: "presets" }, ...Object.keys(this.presets.effectors).map((n) => this.option(`preset:${n}`, n, this.effectorKey))),
      h("optgroup", { label: "saved" }, ...this.savedEffectors.map((r) => this.option(`saved:${r.id}`, `${r.name} (#${r.id})`, this.effectorKey)))
    );
    this.effectorSel.addEventListener("change", () => this.setEffector(this.effectorSel.value, true));
    const taskSel = (this.taskSel = h(
      "select",
      { "data-testid": "task-select" },
      h("option", { value: "" }, "— load a task —"),
      h("optgroup", { label: "presets" }, ...Object.keys(this.presets.tasks).map((n) => h("option", { value: `preset:${n}` }, n))),
      (this.savedTaskGroup = h("optgroup", { label: "saved" }, ...this.savedTasks.map((r) => h("option", { value: `saved:${r.id}` }, `${r.name} (#${r.id})`))))
    ));
    taskSel.addEventListener("change", async () => {
      if (!taskSel.value) return;
      await this.loadTask(taskSel.value);
      this.relabel();
      this.ctx.setParams({ task: taskSel.value });
      this.changed(true);
    });
    this.effectorNote = h("p", { class: "warnbox small", "data-testid": "effector-note" });
    this.draftNote = h("div", { class: "warnbox small", "data-testid": "draft-note", hidden: true });
    this.status = h("span", { class: "small muted", "data-testid": "validation-status" });
    this.summary = h("div", { "data-testid": "error-summary" });
    this.nameForm = h("div");
    this.boxes = {};
    for (const s of SECTIONS) this.boxes[s.key] = h("div");
    this.diagramBox = h("div");
    this.diagram = new AreaDiagram(this.diagramBox);
    const previewBox = h("div");
    this.preview = new TaskPreview(previewBox);
    this.root.replaceChildren(
      h("h1", {}, "Task designer"),
      h("p", { class: "hint" }, "Start from a run preset, pick the effector, shape the task and the training, then launch. Every field checks itself against the server's schema as you type."),
      h(
        "div",
        { class: "toolbar panel" },
        h("label", {}, "Start from ", presetSel),
        h("label", {}, "Effector ", this.effectorSel),
        taskSel,
        h("span", { class: "grow" }),
        this.status,
        h("button", { onclick: () => this.saveTask(), "data-testid": "save-task" }, "Save task"),
        h("button", { onclick: () => downloadJson(this.spec, `${this.spec.name}.json`) }, "Export run spec"),
        h("button", { class: "primary", onclick: () => this.launch(), "data-testid": "launch" }, "Launch run")
      ),
      this.effectorNote,
      this.draftNote,
      this.summary,
      h(
        "div",
        { class: "cols" },
        h(
          "div",
          {},
          h("section", { class: "panel" }, h("h2", {}, "Run"), this.nameForm),
          ...SECTIONS.filter((s) => s.key === "task").map((s) => this.section(s))
        ),
        h(
          "div",
          {},
          h("section", { class: "panel" }, h("h2", {}, "Targets and start positions (preview)"), previewBox),
          ...SECTIONS.filter((s) => s.key !== "task").map((s) => this.section(s))
        )
      )
    );
  }

  section(s) {
    const extra = s.key === "policy" ? [this.diagramBox] : [];
    return h("section", { class: "panel", "data-section": s.key }, h("h2", {}, s.title), h("p", { class: "hint" }, s.help), ...extra, this.boxes[s.key]);
  }

  /**
   * Start from another run preset. An effector the user picked (one that is not the old preset's
   * own) is kept, with a note saying so; the preset's own effector follows the new preset.
   */
  setPreset(name) {
    const old = this.presets.runs[this.presetName];
    const chosen = JSON.stringify(this.spec.effector) !== JSON.stringify(old.effector);
    const effector = this.spec.effector;
    this.presetName = name;
    this.spec = JSON.parse(JSON.stringify(this.presets.runs[name]));
    this.taskKey = null;
    this.taskSel.value = "";
    if (chosen) {
      this.spec = { ...this.spec, effector };
      const label = this.effectorSel.selectedOptions[0]?.textContent ?? effector.name;
      this.effectorNote.textContent = `Kept your effector “${label}” (the preset “${name}” comes with “${this.presets.runs[name].effector.name}”: pick “the preset's effector” to use it).`;
      if (this.effectorKey === "run") this.effectorKey = this.matchEffector(effector);
    } else {
      this.effectorKey = this.matchEffector(this.spec.effector);
      this.effectorNote.textContent = "";
    }
    this.effectorSel.value = this.effectorKey;
    this.relabel();
    this.ctx.setParams({ preset: name, effector: this.effectorKey, task: null });
    this.changed(true);
  }

  async setEffector(key, notify) {
    let spec = null;
    try {
      if (key.startsWith("preset:")) spec = this.presets.effectors[key.slice(7)];
      else if (key.startsWith("saved:")) spec = (await api(`/api/effectors/${key.slice(6)}`)).spec;
      else spec = this.presets.runs[this.presetName].effector;
    } catch (err) {
      toast(`Effector: ${errorMessage(err)}`, { error: true });
    }
    if (!spec) return;
    this.effectorKey = key;
    this.spec = { ...this.spec, effector: JSON.parse(JSON.stringify(spec)) };
    if (notify) {
      this.effectorNote.textContent = "";
      const relabelled = this.relabel();
      this.ctx.setParams({ effector: key });
      if (relabelled) this.renderNameForm();
      this.changed(false);
    }
  }

  async loadTask(key) {
    try {
      const task = key.startsWith("preset:") ? this.presets.tasks[key.slice(7)] : (await api(`/api/tasks/${key.slice(6)}`)).spec;
      if (task) {
        this.spec = { ...this.spec, task: JSON.parse(JSON.stringify(task)) };
        this.taskKey = key;
      }
    } catch (err) {
      toast(`Task: ${errorMessage(err)}`, { error: true });
    }
  }

  node(key) {
    return this.model.fields.find((f) => f.key === key).node;
  }

  renderNameForm() {
    this.forms.name = new SchemaForm(this.nameForm, this.model, this.spec, {
      omit: ["effector", "task", "policy", "loss", "train", "interventions"],
      onChange: (v) => {
        this.spec = { ...this.spec, name: v.name, tags: v.tags };
        this.labelsEdited = true;
        this.changed(false);
      },
    });
  }

  renderForms() {
    this.forms = {};
    this.renderNameForm();
    for (const s of SECTIONS) {
      if (s.key === "interventions") {
        // a list at the top of the spec: rendered as the run model's only field shown
        const others = this.model.fields.map((f) => f.key).filter((k) => k !== "interventions");
        this.forms[s.key] = new SchemaForm(this.boxes[s.key], this.model, { interventions: this.spec.interventions ?? [] }, {
          omit: others,
          onChange: (v) => {
            this.spec = { ...this.spec, interventions: v.interventions };
            this.changed(false);
          },
        });
        continue;
      }
      this.forms[s.key] = new SchemaForm(this.boxes[s.key], this.node(s.key), this.spec[s.key], {
        prefix: s.key,
        onChange: (v) => {
          this.spec = { ...this.spec, [s.key]: v };
          this.changed(false);
        },
      });
    }
    this.showErrors();
    this.preview.draw(this.spec);
    this.diagram.draw(this.spec.policy);
  }

  changed(structural) {
    if (structural) this.renderForms();
    else {
      this.preview.draw(this.spec);
      this.diagram.draw(this.spec.policy);
    }
    this.saveDraft();
    this.validateSoon();
  }

  async validate() {
    const spec = this.spec;
    try {
      const res = await api("/api/validate/run", { method: "POST", body: spec });
      if (spec !== this.spec) return;
      this.errors = (res.errors ?? []).map((e) => ({ ...e, loc: normalizeLoc(this.model, e.loc) }));
    } catch (err) {
      this.status.textContent = errorMessage(err);
      return;
    }
    this.showErrors();
  }

  showErrors() {
    const forms = Object.values(this.forms);
    const byPath = assignErrors(this.errors, forms.flatMap((f) => f.paths()));
    for (const f of forms) f.showErrors(byPath);
    const loose = byPath[""] ?? [];
    this.summary.replaceChildren(
      ...(loose.length ? [h("div", { class: "errorbox" }, h("strong", {}, "Problems:"), h("ul", {}, ...loose.map((e) => h("li", {}, `${e.loc || "run"}: ${e.msg}`))))] : [])
    );
    const n = this.errors.length;
    this.status.textContent = n ? `${n} error${n > 1 ? "s" : ""}` : "valid";
    this.status.style.color = n ? "var(--bad)" : "var(--ok)";
  }

  async saveTask() {
    const name = `${this.spec.task.kind} (${this.spec.name})`;
    try {
      const row = await api("/api/tasks", { method: "POST", body: { name, spec: this.spec.task } });
      toast(`Saved task #${row.id} “${row.name}”`);
      const key = `saved:${row.id}`;
      this.savedTasks.push(row);
      this.savedTaskGroup.append(h("option", { value: key }, `${row.name} (#${row.id})`));
      this.taskSel.value = key;
      this.taskKey = key;
      this.ctx.setParams({ task: key });
      this.saveDraft();
    } catch (err) {
      this.applyServerErrors(err, "task");
      toast(`Task not saved: ${errorMessage(err)}`, { error: true });
    }
  }

  applyServerErrors(err, prefix) {
    const errs = validationErrors(err).map((e) => {
      const loc = prefix && !e.loc.startsWith(prefix) ? `${prefix}.${e.loc}` : e.loc;
      return { ...e, loc: normalizeLoc(this.model, loc) };
    });
    if (errs.length) {
      this.errors = errs;
      this.showErrors();
    }
  }

  async launch() {
    try {
      const run = await api("/api/runs", { method: "POST", body: { spec: this.spec } });
      toast(`Launched run #${run.id}`);
      this.ctx.go("run", { id: run.id });
    } catch (err) {
      this.applyServerErrors(err, "");
      toast(`Not launched: ${errorMessage(err)}`, { error: true });
    }
  }

  destroy() {
    this.validateSoon.cancel();
  }
}

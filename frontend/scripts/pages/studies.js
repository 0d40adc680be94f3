// Studies: the paper's experiments as one-click runs. Pick a study, adjust its parameters (a form
// generated from its JSON schema), run it, follow it live and read its figures, table and numbers.
// URL state: study (the selected study), run (the study run shown).

import { api, errorMessage, items } from "../api.js";
import { SchemaForm } from "../components/schema-form.js";
import { StudyRunView } from "../components/study-run.js";
import { h, toast } from "../dom.js";
import { assignErrors, formModel, normalizeLoc } from "../logic/schema.js";
import { changedParams, expectedText, paramErrors, runsOf } from "../logic/studies.js";

export async function mount(root, params, ctx) {
  const page = new StudiesPage(root, ctx);
  await page.init(params);
  return page;
}

class StudiesPage {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.title = "Studies";
    this.studies = [];
    this.runs = [];
  }

  async init(params) {
    try {
      this.studies = items(await api("/api/studies"));
    } catch (err) {
      this.root.replaceChildren(h("h1", {}, "Studies"), h("div", { class: "errorbox" }, `Could not load the studies: ${errorMessage(err)}`));
      return;
    }
    this.list = h("ul", { class: "study-list", "data-testid": "study-list" });
    this.detail = h("section", { class: "panel study-detail" });
    this.root.replaceChildren(
      h("h1", {}, "Studies"),
      h("p", { class: "hint" }, "The MotorNet paper's experiments (Codol et al. 2024), one click each. The biomechanics studies take seconds; the others train small networks for minutes on the server's workers. Every result is stored: its link reopens it."),
      h("div", { class: "studies-layout" }, h("nav", { class: "panel", "aria-label": "Studies" }, this.list), this.detail)
    );
    await this.loadRuns();
    this.select(params);
  }

  async loadRuns() {
    try {
      this.runs = items(await api("/api/runs?kind=study"));
    } catch {
      this.runs = [];
    }
  }

  renderList() {
    this.list.replaceChildren(
      ...this.studies.map((s) =>
        h(
          "li",
          { class: s.name === this.study?.name ? "sel" : "", "data-study": s.name },
          h("a", { href: `#/studies?study=${s.name}` }, h("strong", {}, s.title)),
          h("div", { class: "small muted" }, `${s.name} · ${expectedText(s.expected_seconds)}${s.trains ? " · trains networks" : ""}`)
        )
      )
    );
  }

  select(params) {
    const study = this.studies.find((s) => s.name === params.study) ?? this.studies[0];
    if (!study) return;
    if (params.study !== study.name) this.ctx.setParams({ study: study.name });
    const changed = study !== this.study;
    this.study = study;
    this.renderList();
    if (changed) this.renderDetail();
    if (params.run) this.openRun(params.run);
    else this.runView?.close();
  }

  renderDetail() {
    const s = this.study;
    this.model = formModel(s.schema);
    this.values = structuredClone(s.defaults);
    const formBox = h("div", { "data-testid": "study-form" });
    this.loose = h("div");
    this.history = h("div", { class: "small study-history" });
    this.runBox = h("div", { class: "study-run" });
    this.runButton = h("button", { class: "primary", onclick: () => this.launch(), "data-testid": "study-run-button" }, "Run");
    this.detail.replaceChildren(
      h("h2", {}, s.title),
      h("p", {}, s.description),
      h("p", { class: "small muted" }, `Expected duration ${expectedText(s.expected_seconds)} with the defaults on 2 CPU cores${s.trains ? "; it trains networks, and its progress streams live" : ""}.`),
      (this.paramsBox = h("details", { class: "study-params", open: true }, (this.paramsTitle = h("summary")), formBox)),
      this.loose,
      h("div", { class: "toolbar" }, this.runButton, h("button", { onclick: () => this.resetForm() }, "Reset to defaults"), h("span", { class: "grow" }), this.history),
      this.runBox
    );
    this.form = new SchemaForm(formBox, this.model, this.values, { onChange: (v) => this.setValues(v) });
    this.setValues(this.values);
    this.runView?.close();
    this.runView = new StudyRunView(this.runBox, { study: s, expectedSeconds: s.expected_seconds, onChange: () => this.refreshHistory() });
    this.renderHistory();
  }

  renderHistory() {
    const mine = runsOf(this.runs, this.study.name).slice(0, 8);
    this.history.replaceChildren(
      ...(mine.length ? [h("span", { class: "muted" }, "Earlier runs: ")] : []),
      ...mine.map((r) => h("a", { href: `#/studies?run=${r.id}&study=${this.study.name}`, class: `badge ${r.status}`, title: r.status, style: "margin-right:.25rem" }, `#${r.id}`))
    );
  }

  async refreshHistory() {
    await this.loadRuns();
    if (this.study) this.renderHistory();
  }

  /** Keep the values and show how many differ from the defaults. */
  setValues(values) {
    this.values = values;
    const n = Object.keys(changedParams(values, this.study.defaults)).length;
    this.paramsTitle.replaceChildren(h("strong", {}, "Parameters"), h("span", { class: "small muted" }, n ? ` (${n} changed from the defaults)` : " (the defaults)"));
  }

  resetForm() {
    this.setValues(structuredClone(this.study.defaults));
    this.form.setValue(this.values);
    this.showErrors([]);
  }

  showErrors(errors) {
    const byPath = assignErrors(errors, this.form.paths());
    this.form.showErrors(byPath);
    const loose = byPath[""] ?? [];
    if (errors.length) this.paramsBox.open = true;
    this.loose.replaceChildren(
      ...(loose.length ? [h("div", { class: "errorbox", "data-testid": "study-param-errors" }, ...loose.map((e) => h("div", {}, `${e.loc || "parameters"}: ${e.msg}`)))] : [])
    );
  }

  async openRun(id) {
    if (this.runView.id === Number(id) && this.runView.run) return;
    await this.runView.open(id);
    const run = this.runView.run;
    if (run?.kind === "study" && run.study !== this.study.name && this.studies.some((s) => s.name === run.study)) {
      this.ctx.go("studies", { study: run.study, run: run.id }); // a link whose study does not match its run
      return;
    }
    if (run?.kind === "study" && run.params) {
      this.setValues({ ...this.study.defaults, ...run.params });
      this.form.setValue(this.values);
      this.paramsBox.open = false; // the result comes first; the parameters it ran with are one click away
    }
  }

  async launch() {
    this.runButton.disabled = true;
    try {
      const body = { params: changedParams(this.values, this.study.defaults) };
      const run = await api(`/api/studies/${this.study.name}/runs`, { method: "POST", body });
      this.showErrors([]);
      toast(`Started ${this.study.name} (run #${run.id})`);
      this.runs = [run, ...this.runs];
      this.renderHistory();
      this.ctx.setParams({ run: run.id });
      this.paramsBox.open = false;
      await this.runView.open(run.id);
    } catch (err) {
      const errors = paramErrors(err.detail).map((e) => ({ ...e, loc: e.loc ? normalizeLoc(this.model, e.loc) : "" }));
      this.showErrors(errors.length ? errors : [{ loc: "", msg: errorMessage(err) }]);
      toast(`Not started: ${errorMessage(err)}`, { error: true });
    } finally {
      this.runButton.disabled = false;
    }
  }

  update(params) {
    this.select(params);
  }

  destroy() {
    this.runView?.close();
  }
}

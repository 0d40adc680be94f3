// An experiment (#/experiments/<id>): live progress (websocket, REST catch-up on every (re)connect),
// loss curves as mean ± 95% interval per condition, the final metrics with statistics, parallel
// coordinates, a strip plot of every seed, every network with its link and notes, a spec diff of
// two runs and the experiment's notes. URL state: metric, scale (log), per (parcoords lines), a, b (diff).

import { api, errorMessage, items } from "../api.js";
import { ExperimentCurves } from "../components/experiment-curves.js";
import { ExperimentNetworks } from "../components/experiment-networks.js";
import { FinalTable } from "../components/final-table.js";
import { NotesEditor } from "../components/notes-editor.js";
import { ParcoordsPlot } from "../components/parcoords-plot.js";
import { SpecDiff } from "../components/spec-diff.js";
import { StripPlot } from "../components/strip-plot.js";
import { h, toast } from "../dom.js";
import { METRICS, applyExperimentMessage, experimentRuns, networksText } from "../logic/experiments.js";
import { canResume, isActive, isTerminal } from "../logic/status.js";
import { openSocket } from "../socket.js";

const AGG_EVERY_MS = 2500;

export async function mount(root, params, ctx) {
  const page = new ExperimentPage(root, ctx);
  await page.init(params);
  return page;
}

class ExperimentPage {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.title = "Experiment";
    this.exp = null;
    this.agg = null;
    this.runsById = {};
    this.aggTimer = null;
    this.lastAgg = 0;
    this.aggKey = "";
  }

  async init(params) {
    this.id = Number(params.id);
    this.view = { metric: METRICS.includes(params.metric) ? params.metric : "loss", log: params.scale === "log", per: params.per === "condition" ? "condition" : "network", a: params.a, b: params.b };
    try {
      this.exp = await api(`/api/experiments/${this.id}`);
    } catch (err) {
      this.root.replaceChildren(h("h1", {}, `Experiment #${this.id}`), h("div", { class: "errorbox" }, `Could not load experiment #${this.id}: ${errorMessage(err)}`), h("a", { href: "#/experiments" }, "Back to the experiments"));
      return;
    }
    this.title = this.exp.name;
    this.render();
    this.showHeader();
    await this.refreshAggregates();
    this.socket = openSocket(`/ws/experiments/${this.id}`, {
      onOpen: () => this.catchUp(),
      onMessage: (msg) => this.onMessage(msg),
      onClose: () => this.live.classList.remove("on"),
    });
  }

  render() {
    this.header = h("div", { class: "exp-header" });
    this.live = h("span", { class: "live", title: "live updates" }, "● live");
    const notesBox = h("div");
    const plot = (testid, cls = "plot") => h("div", { class: cls, "data-testid": testid });
    this.metricSel = h("select", { "data-testid": "metric-select", "aria-label": "metric", onchange: () => this.setView({ metric: this.metricSel.value }) }, ...METRICS.map((m) => h("option", { value: m, selected: m === this.view.metric }, m)));
    this.logBox = h("input", { type: "checkbox", checked: this.view.log, "data-testid": "log-toggle", onchange: () => this.setView({ log: this.logBox.checked }) });
    this.perSel = h(
      "select",
      { "data-testid": "parcoords-per", "aria-label": "lines", onchange: () => this.setView({ per: this.perSel.value }) },
      h("option", { value: "network", selected: this.view.per === "network" }, "a line per network"),
      h("option", { value: "condition", selected: this.view.per === "condition" }, "a line per condition (means)")
    );
    const curvesEl = plot("curves-plot", "plot tall");
    const stripEl = plot("strip-plot", "plot tall");
    const parEl = plot("parcoords-plot", "plot tall");
    const tableEl = h("div");
    const netEl = h("div", { class: "scroll-x" });
    const diffEl = h("div");
    this.root.replaceChildren(
      h("div", { class: "toolbar" }, h("h1", { style: "margin:0" }, this.exp.name, h("span", { class: "muted small" }, ` #${this.id}`)), this.live, h("span", { class: "grow" }), h("a", { href: "#/experiments", class: "button" }, "All experiments")),
      h("section", { class: "panel" }, this.header, h("h3", {}, "Notes"), notesBox),
      h(
        "div",
        { class: "toolbar panel view-bar" },
        h("label", {}, "metric ", this.metricSel),
        h("label", { title: "log y axis" }, this.logBox, " log scale"),
        h("span", { class: "grow" }),
        h("span", { class: "small muted" }, "bands and bars: 95% bootstrap interval of the mean over seeds")
      ),
      h("div", { class: "cols2" }, h("section", { class: "panel" }, h("h2", {}, "Training curves"), curvesEl), h("section", { class: "panel" }, h("h2", {}, "Final value per seed"), stripEl)),
      h("section", { class: "panel" }, h("h2", {}, "Final metrics by condition"), tableEl),
      h("section", { class: "panel" }, h("div", { class: "toolbar" }, h("h2", { style: "margin:0" }, "Swept values vs final metrics"), h("span", { class: "grow" }), this.perSel), parEl),
      h("section", { class: "panel" }, h("h2", {}, "Networks"), h("p", { class: "hint" }, "Every network is an ordinary run: open it to watch its training, replay its reaches or export it."), netEl),
      h("section", { class: "panel" }, h("h2", {}, "Spec diff"), h("p", { class: "hint" }, "What differs between the specs of two networks (the swept fields, the seed, the name)."), diffEl)
    );
    this.notes = new NotesEditor(notesBox, { value: this.exp.notes ?? "", testid: "experiment-notes", onSave: (text) => this.saveNotes(text) });
    this.curves = new ExperimentCurves(curvesEl);
    this.strip = new StripPlot(stripEl, { onOpenRun: (id) => this.ctx.go("run", { id }) });
    this.parcoords = new ParcoordsPlot(parEl);
    this.table = new FinalTable(tableEl);
    this.networks = new ExperimentNetworks(netEl);
    this.diff = new SpecDiff(diffEl, { onChange: (a, b) => this.setView({ a, b }, false) });
  }

  showHeader() {
    const e = this.exp;
    const pct = Math.round(100 * (e.progress ?? 0));
    const actions = [];
    if (isActive(e.status)) actions.push(h("button", { onclick: () => this.act("cancel"), "data-testid": "experiment-cancel" }, "Cancel"));
    if (canResume(e.status, 0)) actions.push(h("button", { onclick: () => this.act("resume"), "data-testid": "experiment-resume" }, "Resume"));
    if (!isActive(e.status)) actions.push(h("button", { class: "danger", onclick: () => this.remove() }, "Delete"));
    const its = e.spec?.base?.train?.n_iterations;
    this.header.replaceChildren(
      h(
        "div",
        { class: "toolbar" },
        h("span", { class: `badge ${e.status}`, "data-testid": "experiment-status" }, e.status),
        h("strong", {}, networksText(e.n_conditions ?? 0, e.seeds ?? 0)),
        h("span", { class: "progress wide" }, h("span", { style: `width:${pct}%` })),
        h("span", { "data-testid": "experiment-progress" }, `${pct}%`),
        h("span", { class: "grow" }),
        ...actions
      ),
      h(
        "div",
        { class: "cond-chips" },
        ...(e.conditions ?? []).map((c) =>
          h("span", { class: "cond-chip", title: JSON.stringify(c.values) }, h("span", { class: `badge ${c.status}` }, c.status), ` ${c.label}`, its ? h("span", { class: "small muted" }, ` · step ${c.step ?? 0}/${its}`) : null)
        )
      )
    );
  }

  onMessage(msg) {
    if (msg?.type !== "experiment") return;
    this.live.classList.add("on");
    const before = this.exp;
    this.exp = applyExperimentMessage(this.exp, msg);
    this.showHeader();
    this.notes.setValue(this.exp.notes ?? "");
    const steps = (x) => (x?.conditions ?? []).map((c) => `${c.status}:${c.step}`).join(",");
    if (steps(before) !== steps(this.exp) || before.status !== this.exp.status) this.scheduleAggregates(isTerminal(this.exp.status));
  }

  /** After a (re)connect: what the socket may have missed, from REST. */
  async catchUp() {
    this.live.classList.add("on");
    try {
      this.onMessage({ ...(await api(`/api/experiments/${this.id}`)), type: "experiment" });
    } catch {
      // the banner reports an unreachable server; the socket reconnects and catches up again
    }
  }

  scheduleAggregates(now = false) {
    if (this.aggTimer) {
      if (!now) return;
      clearTimeout(this.aggTimer);
    }
    const wait = now ? 0 : Math.max(0, AGG_EVERY_MS - (Date.now() - this.lastAgg));
    this.aggTimer = setTimeout(() => {
      this.aggTimer = null;
      this.refreshAggregates();
    }, wait);
  }

  async refreshAggregates() {
    this.lastAgg = Date.now();
    try {
      const [agg, runs] = await Promise.all([api(`/api/experiments/${this.id}/aggregates?keys=${METRICS.join(",")}&max_points=200`), api("/api/runs?kind=all")]);
      const ids = new Set(experimentRuns(this.exp).map((r) => r.run_id));
      this.runsById = Object.fromEntries(items(runs).filter((r) => ids.has(r.id)).map((r) => [r.id, r]));
      this.agg = agg;
    } catch (err) {
      toast(`Could not load the statistics: ${errorMessage(err)}`, { error: true });
      return;
    }
    this.draw();
  }

  draw() {
    const { metric, log, per } = this.view;
    this.curves.draw(this.agg, metric, { log });
    this.strip.draw(this.agg, metric, this.runsById, { log });
    this.table.draw(this.agg, metric);
    this.parcoords.draw(this.agg, METRICS, this.runsById, { per });
    this.networks.draw(this.exp, this.agg, this.runsById, metric);
    this.diff.setRuns(experimentRuns(this.exp), this.view.a, this.view.b);
  }

  setView(changes, redraw = true) {
    Object.assign(this.view, changes);
    this.ctx.setParams({ metric: this.view.metric === "loss" ? null : this.view.metric, scale: this.view.log ? "log" : null, per: this.view.per === "network" ? null : this.view.per, a: this.view.a, b: this.view.b });
    if (redraw && this.agg) this.draw();
  }

  async saveNotes(text) {
    this.exp = { ...this.exp, ...(await api(`/api/experiments/${this.id}`, { method: "PATCH", body: { notes: text } })) };
    toast("Notes saved");
  }

  async act(what) {
    try {
      this.onMessage({ ...(await api(`/api/experiments/${this.id}/${what}`, { method: "POST" })), type: "experiment" });
    } catch (err) {
      toast(`Could not ${what}: ${errorMessage(err)}`, { error: true });
    }
  }

  async remove() {
    if (!confirm(`Delete experiment “${this.exp.name}” and its networks?`)) return;
    try {
      await api(`/api/experiments/${this.id}`, { method: "DELETE" });
      toast(`Deleted ${this.exp.name}`);
      this.ctx.go("experiments");
    } catch (err) {
      toast(`Could not delete: ${errorMessage(err)}`, { error: true });
    }
  }

  update(params) {
    if (Number(params.id) !== this.id) {
      this.destroy();
      this.root.replaceChildren();
      this.agg = null;
      this.init(params);
      return;
    }
    const metric = METRICS.includes(params.metric) ? params.metric : "loss";
    this.view = { ...this.view, metric, log: params.scale === "log", per: params.per === "condition" ? "condition" : "network", a: params.a, b: params.b };
    this.metricSel.value = metric;
    this.logBox.checked = this.view.log;
    this.perSel.value = this.view.per;
    if (this.agg) this.draw();
  }

  destroy() {
    this.socket?.close();
    clearTimeout(this.aggTimer);
    this.aggTimer = null;
    for (const c of [this.curves, this.strip, this.parcoords]) c?.destroy();
  }
}

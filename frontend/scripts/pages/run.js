// Run view (live): status and progress, loss curves growing over the websocket, the latest
// evaluation snapshot animated with a scrubber over earlier ones, downloads.

import { api, errorMessage } from "../api.js";
import { DynamicsPanel } from "../components/dynamics-panel.js";
import { InterventionPanel } from "../components/intervention-panel.js";
import { extend, layout, placeholder, react } from "../components/plots.js";
import { NotesEditor } from "../components/notes-editor.js";
import { ProtocolCurve } from "../components/protocol-curve.js";
import { SnapshotView } from "../components/snapshot-view.js";
import { colour, duration, fmt, h, toast } from "../dom.js";
import { duplicateTerms, iterationRate, lossAxes, lossKeys, metricFromMessage, progressText, runTiming, smooth, truncateSeries } from "../logic/metrics.js";
import { canResume, isActive, queueText, stopNote } from "../logic/status.js";
import { openSocket } from "../socket.js";

const MAX_POINTS = 5000;

export async function mount(root, params, ctx) {
  const page = new RunPage(root, ctx);
  await page.init(params);
  return page;
}

class RunPage {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.title = "Run";
    this.keys = [];
    this.snapshots = [];
    this.follow = true;
    this.samples = []; // [seconds, step] while training: the measured iterations/s
  }

  /** Keep a run fetched from REST, and when (its duration counts on from then while it runs). */
  setRun(run) {
    this.run = run;
    this.fetchedAt = performance.now() / 1000;
  }

  async init(params) {
    this.id = params.id;
    if (!this.id) {
      this.root.replaceChildren(h("h1", {}, "Run"), h("p", {}, "No run selected. ", h("a", { href: "#/runs" }, "Pick one in the runs table.")));
      return;
    }
    this.scale = params.scale === "linear" ? "linear" : "log";
    this.smoothing = Math.min(0.99, Math.max(0, Number(params.smooth ?? 0) || 0));
    try {
      this.setRun(await api(`/api/runs/${this.id}`));
    } catch (err) {
      this.root.replaceChildren(h("h1", {}, `Run #${this.id}`), h("div", { class: "errorbox" }, `Could not load run #${this.id}: ${errorMessage(err)}`), h("a", { href: "#/runs" }, "Back to the runs"));
      return;
    }
    this.title = `Run #${this.id}`;
    this.layout();
    this.renderHeader();
    // REST first, then the socket from the last step held (docs/server.md, "Catching up"): the
    // server sends every metric past it exactly once. Every (re)connect asks from what is held now;
    // a hole in `seq` (the server dropped messages this page was too slow for) reconnects.
    await Promise.all([this.loadMetrics(), this.loadSnapshots(params)]);
    this.lastSeq = null;
    this.socket = openSocket(() => `/ws/runs/${this.id}?after_step=${Math.max(-1, this.heldStep)}`, {
      onMessage: (m) => this.onMessage(m),
      onClose: () => {
        this.lastSeq = null;
      },
    });
    this.flushTimer = setInterval(() => this.flushMetrics(), 250);
    // no message comes between statuses and metric flushes: the duration and ETA tick on their own
    this.clockTimer = setInterval(() => {
      if (this.run?.status === "running") this.renderHeader();
    }, 1000);
  }

  layout() {
    this.header = h("div", { class: "panel" });
    this.lossEl = h("div", { class: "plot tall", "data-testid": "loss-plot" });
    const scale = h("select", { "data-testid": "loss-scale", "aria-label": "loss axis scale" }, h("option", { value: "log" }, "log"), h("option", { value: "linear" }, "linear"));
    scale.value = this.scale;
    scale.addEventListener("change", () => {
      this.scale = scale.value;
      this.ctx.setParams({ scale: this.scale === "log" ? null : this.scale });
      this.drawMetrics();
    });
    const smoothing = h("input", { type: "range", min: 0, max: 0.99, step: 0.01, value: this.smoothing, "data-testid": "loss-smoothing", "aria-label": "smoothing" });
    const smoothLabel = h("span", { class: "small muted" }, this.smoothing.toFixed(2));
    smoothing.addEventListener("input", () => {
      this.smoothing = Number(smoothing.value);
      smoothLabel.textContent = this.smoothing.toFixed(2);
      this.ctx.setParams({ smooth: this.smoothing > 0 ? this.smoothing : null });
      this.drawMetrics();
    });
    this.lossTools = h("div", { class: "toolbar small" }, h("label", {}, "scale ", scale), h("label", {}, "smoothing ", smoothing), smoothLabel);
    this.otherEl = h("div", { class: "plot", "data-testid": "lr-plot" });
    const armBox = h("div");
    const plotsBox = h("div");
    this.snapSlider = h("input", { type: "range", min: 0, max: 0, value: 0, "aria-label": "snapshot", "data-testid": "snapshot-slider" });
    this.snapSlider.addEventListener("input", () => this.pickSnapshot(Number(this.snapSlider.value)));
    this.snapLabel = h("span", { class: "small muted", "data-testid": "snapshot-label" }, "no snapshot yet");
    this.followBox = h("input", { type: "checkbox", checked: true });
    this.followBox.addEventListener("change", () => {
      this.follow = this.followBox.checked;
      if (this.follow && this.snapshots.length) this.pickSnapshot(this.snapshots.length - 1);
    });
    this.logs = h("pre", { class: "small", style: "max-height:10rem;overflow:auto;margin:0;white-space:pre-wrap", "data-testid": "run-logs" });
    const interventionBox = h("div");
    const dynamicsBox = h("div");
    const protocolBox = h("div");
    const protocol = this.run?.spec?.train?.protocol;
    this.rerunBox = h("section", { class: "panel", hidden: true, "data-testid": "rerun-panel" });
    this.root.replaceChildren(
      this.header,
      this.rerunBox,
      h(
        "div",
        { class: "cols" },
        h("section", { class: "panel" }, h("h2", {}, "Loss"), this.lossTools, this.lossEl, this.otherEl),
        h(
          "section",
          { class: "panel" },
          h("h2", {}, "Evaluation reaches"),
          h("div", { class: "scrub" }, h("span", { class: "small" }, "snapshot"), this.snapSlider, this.snapLabel, h("label", { class: "small" }, this.followBox, " follow latest")),
          armBox
        )
      ),
      ...(protocol ? [h("section", { class: "panel", "data-section": "protocol" }, h("h2", {}, "Learning and de-adaptation curves"), protocolBox)] : []),
      h("section", { class: "panel" }, plotsBox),
      ...(this.run?.spec?.policy ? [h("section", { class: "panel", "data-section": "interventions" }, h("h2", {}, "Interventions: with and without"), interventionBox)] : []),
      ...(this.run?.spec?.policy ? [h("section", { class: "panel", "data-section": "dynamics" }, h("h2", {}, "Dynamics: fixed points, tangling, population trajectories"), dynamicsBox)] : []),
      this.notesPanel(),
      h("section", { class: "panel" }, h("h2", {}, "Log"), this.logs)
    );
    if (this.run?.spec?.policy) this.interventions = new InterventionPanel(interventionBox, this.id, this.run.spec);
    if (this.run?.spec?.policy) {
      const pol = this.run.spec.policy;
      if (pol.kind === "multi_area" || (["gru", "rnn"].includes(pol.kind) && (pol.n_layers ?? 1) === 1)) this.dynamics = new DynamicsPanel(dynamicsBox, this.id);
      else dynamicsBox.append(h("p", { class: "hint", "data-testid": "dynamics-unavailable" }, `The dynamics analyses need a one-layer GRU or RNN policy, or a multi-area one; this run's is ${pol.kind} × ${pol.n_layers ?? 1} layer${(pol.n_layers ?? 1) === 1 ? "" : "s"}.`));
    }
    if (protocol) this.protocol = new ProtocolCurve(protocolBox, protocol);
    this.view = new SnapshotView({ armBox, plotsBox, onTrial: (b) => this.ctx.setParams({ trial: b }) });
    placeholder(this.lossEl, "waiting for the first iteration…");
  }

  renderHeader() {
    const r = this.run;
    const m = r.last_metrics ?? {};
    const rate = iterationRate(this.samples) ?? (r.duration > 0 && r.step > 0 ? r.step / r.duration : null);
    const timing = runTiming(r, performance.now() / 1000 - (this.fetchedAt ?? 0), rate);
    const stat = (k, v, id) => h("div", { class: "stat" }, h("div", { class: "v", "data-testid": id }, v), h("div", { class: "k" }, k));
    const stats = h(
      "div",
      { class: "stats" },
      stat("progress", h("span", {}, h("span", { class: "progress" }, h("span", { style: `width:${Math.round(100 * (r.progress ?? 0))}%` })), " ", progressText(r.step, r.n_iterations, r.progress)), "run-progress"),
      stat("loss", fmt(m.loss), "run-loss"),
      stat("duration", duration(timing.seconds), "run-duration"),
      ...(r.status === "queued" ? [stat("queue", queueText(r) ?? "—", "run-queue")] : []),
      stat("speed", timing.rate ? `${fmt(timing.rate, 3)} it/s` : "—", "run-rate"),
      stat("time left", timing.eta !== null ? duration(timing.eta) : "—", "run-eta"),
      stat("effector", r.spec?.effector?.name ?? "—"),
      stat("task", r.spec?.task?.kind?.replace(/_/g, " ") ?? "—"),
      stat("network", r.spec ? `${r.spec.policy.kind} × ${r.spec.policy.hidden_size}` : "—"),
      stat("device", r.device ?? "—")
    );
    // The toolbar (title, status, buttons) is rebuilt only when what it shows changes: metrics
    // redraw the stats several times a second, and a button replaced between a press and its
    // release loses the click.
    // (the step only once the run stopped: the stop note names it; while it trains the toolbar must stay put)
    const key = JSON.stringify([r.id, r.name, r.status, r.checkpoint_step, r.error, isActive(r.status) ? null : r.step]);
    if (key === this.toolbarKey && this.statsEl?.isConnected) {
      this.statsEl.replaceWith(stats);
      this.statsEl = stats;
      return;
    }
    this.toolbarKey = key;
    this.statsEl = stats;
    const active = isActive(r.status);
    const buttons = [];
    if (active) buttons.push(h("button", { onclick: () => this.act("cancel"), "data-testid": "cancel" }, "Cancel"));
    if (canResume(r.status, r.checkpoint_step)) buttons.push(h("button", { onclick: () => this.act("resume") }, "Resume"));
    if (r.checkpoint_step !== null && r.checkpoint_step !== undefined) {
      buttons.push(h("a", { class: "button", href: `#/playground?run=${r.id}` }, "Try it in the playground"));
      buttons.push(h("a", { class: "button", href: `/api/runs/${r.id}/checkpoint`, download: `run${r.id}.pt` }, "Download checkpoint"));
    }
    buttons.push(h("a", { class: "button", href: `/api/runs/${r.id}/spec`, download: `run${r.id}_spec.json` }, "Download spec"));
    buttons.push(h("a", { class: "button", href: `/api/runs/${r.id}/metrics.csv`, download: `run${r.id}_metrics.csv`, "data-testid": "download-csv", title: "every stored metric row: step, then one column per key" }, "Metrics CSV"));
    if (r.spec) buttons.push(h("button", { onclick: () => this.toggleRerun(), "data-testid": "rerun-open", title: "edit this run's spec and launch it as a new run" }, "Rerun with changes…"));
    if (r.parent_id) buttons.unshift(h("a", { class: "button", href: `#/run?id=${r.parent_id}`, "data-testid": "run-parent", title: "the run this one was rerun from" }, `Rerun of #${r.parent_id}`));
    if (r.spec) buttons.push(h("a", { class: "button", href: `#/experiments/new?run=${r.id}`, title: "sweep fields of this run's spec over several seeds" }, "New experiment from this run"));
    if (r.experiment_id) buttons.unshift(h("a", { class: "button", href: `#/experiments/${r.experiment_id}`, "data-testid": "run-experiment" }, `Experiment #${r.experiment_id}`));
    this.header.replaceChildren(
      h("div", { class: "toolbar" }, h("h1", { style: "margin:0" }, `${r.name} `, h("span", { class: "muted small" }, `#${r.id}`)), h("span", { class: `badge ${r.status}`, "data-testid": "run-status" }, r.status), h("span", { class: "grow" }), ...buttons),
      ...(r.status === "failed" ? [h("div", { class: "errorbox", "data-testid": "run-error" }, h("strong", {}, "This run failed: "), r.error ?? "no message")] : []),
      ...(stopNote(r) ? [h("div", { class: canResume(r.status, r.checkpoint_step) ? "notice" : "errorbox", "data-testid": "run-stop-note" }, stopNote(r))] : []),
      stats
    );
  }

  // ---- rerun with changes (issue 16): the spec in an editor, launched as a new run with parent_id ----

  toggleRerun() {
    if (!this.rerunBox.hidden) {
      this.rerunBox.hidden = true;
      return;
    }
    const spec = { ...this.run.spec, name: `${this.run.spec.name ?? this.run.name} (rerun)` };
    const area = h("textarea", { rows: 18, class: "mono", style: "width:100%;font-family:monospace;font-size:12px", "data-testid": "rerun-spec", "aria-label": "run spec (JSON)" }, JSON.stringify(spec, null, 2));
    const err = h("div", { class: "errorbox", hidden: true, "data-testid": "rerun-error" });
    const launch = h("button", { class: "primary", "data-testid": "rerun-launch" }, "Launch the new run");
    launch.addEventListener("click", async () => {
      err.hidden = true;
      let body;
      try {
        body = { spec: JSON.parse(area.value), parent_id: this.run.id };
      } catch (e) {
        err.replaceChildren(`Not valid JSON: ${e.message}`);
        err.hidden = false;
        return;
      }
      launch.disabled = true;
      try {
        const run = await api("/api/runs", { method: "POST", body });
        toast(`Launched run #${run.id}, a rerun of #${this.run.id}`);
        this.ctx.go("run", { id: run.id });
      } catch (e) {
        err.replaceChildren(h("strong", {}, "Not launched: "), errorMessage(e));
        err.hidden = false;
        launch.disabled = false;
      }
    });
    this.rerunBox.replaceChildren(
      h("h2", {}, "Rerun with changes"),
      h("p", { class: "hint" }, "This run's spec: edit any field (the learning rate, the network size, the seed, the task…) and launch it as a new run, which records this one as its parent. The task designer's forms build specs too: ", h("a", { href: "#/task" }, "Design a task"), "."),
      area,
      err,
      h("div", { class: "toolbar" }, launch, h("button", { onclick: () => (this.rerunBox.hidden = true) }, "Close"))
    );
    this.rerunBox.hidden = false;
    area.focus();
  }

  // ---- notes and tags (issue 16): edited in place, saved with PATCH /api/runs/{id} ----

  /** The "Notes and tags" panel: a notes editor and a comma-separated tag field with Save. */
  notesPanel() {
    const box = h("div");
    new NotesEditor(box, { value: this.run.notes ?? "", testid: "run-notes", onSave: (notes) => this.patchRun({ notes }) });
    const tags = h("input", { type: "text", value: (this.run.tags ?? []).join(", "), placeholder: "tags, comma separated", "data-testid": "run-tags-input", "aria-label": "tags", style: "min-width:20rem" });
    const state = h("span", { class: "small muted", "data-testid": "run-tags-state" });
    const save = h("button", { "data-testid": "run-tags-save", disabled: true }, "Save tags");
    const parse = () => [...new Set(tags.value.split(",").map((t) => t.trim()).filter(Boolean))];
    tags.addEventListener("input", () => {
      save.disabled = false;
      state.textContent = "unsaved";
    });
    save.addEventListener("click", async () => {
      save.disabled = true;
      try {
        await this.patchRun({ tags: parse() });
        tags.value = this.run.tags.join(", ");
        state.textContent = "saved";
      } catch (err) {
        state.textContent = `not saved: ${errorMessage(err)}`;
        save.disabled = false;
      }
    });
    return h("section", { class: "panel", "data-testid": "run-notes-panel" }, h("h2", {}, "Notes and tags"), box, h("div", { class: "toolbar" }, h("label", {}, "tags ", tags), save, state));
  }

  async patchRun(body) {
    const r = await api(`/api/runs/${this.id}`, { method: "PATCH", body });
    this.run.notes = r.notes;
    this.run.tags = r.tags;
  }

  async act(verb) {
    try {
      this.setRun(await api(`/api/runs/${this.id}/${verb}`, { method: "POST" }));
      if (verb === "resume") this.rewind(this.run.checkpoint_step ?? 0);
      this.renderHeader();
    } catch (err) {
      toast(`${verb}: ${errorMessage(err)}`, { error: true });
    }
  }

  /**
   * A resume continues from the checkpoint's step and retrains what came after it: drop the points
   * past it and follow the socket from there (the server dropped those rows too).
   */
  rewind(step) {
    if (!(step < this.heldStep)) return;
    this.series = truncateSeries(this.series ?? {}, step);
    this.pendingMetrics = (this.pendingMetrics ?? []).filter((r) => r.step <= step);
    this.heldStep = this.lastStep = step;
    this.samples = [];
    this.drawMetrics();
    this.socket?.reconnect();
  }

  async loadMetrics() {
    try {
      const res = await api(`/api/runs/${this.id}/metrics?max_points=2000`);
      this.series = res.series ?? {};
    } catch (err) {
      this.series = {};
      toast(`Metrics: ${errorMessage(err)}`, { error: true });
    }
    this.lastStep = Math.max(-1, ...Object.values(this.series).map((s) => s.step[s.step.length - 1] ?? -1));
    this.heldStep = this.lastStep; // the last metric step received (drawn or waiting for the next flush)
    this.drawMetrics();
  }

  drawMetrics() {
    this.protocol?.update(this.series, true);
    const keys = lossKeys(Object.keys(this.series));
    this.keys = keys;
    if (!keys.length) return;
    // A term equal to the total (the only weighted term) would hide under it: list it in the legend
    // only (a click shows it). Terms of another scale (activation penalties beside a position loss)
    // get the right-hand axis; with smoothing, the raw curves fade behind smoothed ones.
    const dup = new Set(duplicateTerms(this.series));
    const axes = lossAxes(this.series, keys);
    const smoothed = this.smoothing > 0;
    const traces = keys.map((k, i) => ({
      x: this.series[k].step.slice(),
      y: this.series[k].value.slice(),
      name: dup.has(k) ? `${k} (= loss)` : k,
      visible: dup.has(k) ? "legendonly" : true,
      mode: "lines",
      yaxis: axes[k],
      opacity: smoothed ? 0.3 : 1,
      line: { color: colour(i, keys.length), width: k === "loss" ? 2.5 : 1.5 },
    }));
    if (smoothed) {
      keys.forEach((k, i) => {
        if (dup.has(k)) return;
        traces.push({ x: this.series[k].step.slice(), y: smooth(this.series[k].value, this.smoothing), name: `${k} (smoothed)`, mode: "lines", yaxis: axes[k], line: { color: colour(i, keys.length), width: k === "loss" ? 2.5 : 1.5 } });
      });
    }
    const far = keys.some((k) => axes[k] === "y2");
    react(
      this.lossEl,
      traces,
      layout({
        margin: { l: 60, r: far ? 70 : 20, t: 30, b: 45 },
        xaxis: { title: { text: "iteration" } },
        yaxis: { title: { text: "loss" }, type: this.scale, automargin: true },
        ...(far ? { yaxis2: { title: { text: "terms of another scale" }, type: this.scale, overlaying: "y", side: "right", showgrid: false, automargin: true, exponentformat: "e" } } : {}),
      })
    );
    const other = ["lr", "grad_norm"].filter((k) => this.series[k]);
    this.otherKeys = other;
    if (other.length) {
      react(
        this.otherEl,
        other.map((k, i) => ({ x: this.series[k].step.slice(), y: this.series[k].value.slice(), name: k, mode: "lines", yaxis: i ? "y2" : "y" })),
        layout({
          margin: { l: 70, r: 70, t: 30, b: 45 },
          xaxis: { title: { text: "iteration" } },
          yaxis: { title: { text: other[0] }, exponentformat: "e", rangemode: "tozero", automargin: true, range: [0, 1.15 * Math.max(...this.series[other[0]].value, 1e-12)] },
          // Own ticks for the right axis (an overlaying axis syncs its ticks to the left one's by
          // default: 0.0287, 0.0574, ...), no second grid.
          yaxis2: { title: { text: other[1] ?? "" }, overlaying: "y", side: "right", rangemode: "tozero", tickmode: "auto", nticks: 6, showgrid: false, tickformat: "~g", automargin: true },
        })
      );
    }
  }

  onMessage(msg) {
    if (Number.isInteger(msg.seq)) {
      if (msg.type === "status") {
        if (this.lastSeq === null) this.lastSeq = msg.seq; // the socket's first message: where the stream goes on
      } else if (this.lastSeq !== null && msg.seq !== this.lastSeq + 1) {
        this.socket.reconnect(); // missed messages: catch up from what is held
        return;
      } else this.lastSeq = msg.seq;
    }
    if (msg.type === "status") this.onStatus(msg);
    else if (msg.type === "metric") {
      const { step, values } = metricFromMessage(msg);
      if (step <= this.heldStep) return;
      this.heldStep = step;
      this.pendingMetrics = this.pendingMetrics ?? [];
      this.pendingMetrics.push({ step, values });
    } else if (msg.type === "snapshot") this.onSnapshot(msg);
    else if (msg.type === "log") this.appendLog(msg);
    else if (msg.type === "error") toast(msg.message, { error: true });
  }

  onStatus(msg) {
    this.flushMetrics(); // the metrics sent before this status are drawn before it shows (e.g. "finished")
    const before = this.run.status;
    if (isActive(msg.status) && Number.isInteger(msg.step) && msg.step < this.heldStep) this.rewind(msg.step); // resumed elsewhere
    Object.assign(this.run, { status: msg.status, step: msg.step ?? this.run.step, progress: msg.progress ?? this.run.progress, error: msg.error ?? this.run.error, device: msg.device ?? this.run.device });
    this.renderHeader();
    // Status changes are rare: refresh the row for the numbers they change (duration, checkpoint, result).
    api(`/api/runs/${this.id}`)
      .then((r) => {
        this.setRun({ ...r, last_metrics: { ...this.run.last_metrics, ...r.last_metrics } });
        this.renderHeader();
      })
      .catch(() => {});
    if (msg.status === "failed" && before !== "failed") toast(`Run #${this.id} failed: ${msg.error ?? ""}`, { error: true, ms: 8000 });
  }

  /** Append buffered metric rows with one extendTraces call per plot (at most 4 redraws/s). */
  flushMetrics() {
    const rows = this.pendingMetrics ?? [];
    if (!rows.length) return;
    this.pendingMetrics = [];
    let newKey = false;
    for (const { step, values } of rows) {
      for (const [k, v] of Object.entries(values)) {
        if (!this.series[k]) {
          this.series[k] = { step: [], value: [] };
          newKey = true;
        }
        this.series[k].step.push(step);
        this.series[k].value.push(v);
      }
      this.lastStep = Math.max(this.lastStep, step);
      this.run.last_metrics = { ...this.run.last_metrics, ...values };
      this.run.step = Math.max(this.run.step, step);
      if (this.run.n_iterations) this.run.progress = Math.min(1, this.run.step / this.run.n_iterations);
    }
    this.samples.push([performance.now() / 1000, this.run.step]);
    if (this.samples.length > 400) this.samples.splice(0, this.samples.length - 400);
    if (newKey || this.smoothing > 0 || !this.lossEl.data || !this.keys.length) this.drawMetrics();
    else {
      this.protocol?.update(this.series);
      const xs = [];
      const ys = [];
      for (const k of this.keys) {
        const sub = rows.filter((r) => r.values[k] !== undefined);
        xs.push(sub.map((r) => r.step));
        ys.push(sub.map((r) => r.values[k]));
      }
      extend(this.lossEl, { x: xs, y: ys }, this.keys.map((_, i) => i), MAX_POINTS);
      if (this.otherKeys?.length) {
        const ox = this.otherKeys.map((k) => rows.filter((r) => r.values[k] !== undefined).map((r) => r.step));
        const oy = this.otherKeys.map((k) => rows.filter((r) => r.values[k] !== undefined).map((r) => r.values[k]));
        extend(this.otherEl, { x: ox, y: oy }, this.otherKeys.map((_, i) => i), MAX_POINTS);
      }
    }
    this.renderHeader();
  }

  async loadSnapshots(params) {
    try {
      this.snapshots = (await api(`/api/runs/${this.id}/snapshots`)).map((s) => ({ index: s.index, step: s.step, data: null }));
      const logs = await api(`/api/runs/${this.id}/logs?limit=200`);
      for (const l of logs) this.appendLog(l);
    } catch (err) {
      toast(`Snapshots: ${errorMessage(err)}`, { error: true });
      return;
    }
    this.updateSlider();
    if (!this.snapshots.length) return;
    const want = params.snap !== undefined ? Number(params.snap) : this.snapshots.length - 1;
    const pos = Math.max(0, Math.min(this.snapshots.length - 1, want));
    this.follow = pos === this.snapshots.length - 1;
    this.followBox.checked = this.follow;
    this.view.trial = Number(params.trial ?? 0) || 0;
    await this.pickSnapshot(pos);
  }

  updateSlider() {
    this.snapSlider.max = Math.max(this.snapshots.length - 1, 0);
    this.snapSlider.disabled = this.snapshots.length < 2;
  }

  async pickSnapshot(pos) {
    const s = this.snapshots[pos];
    if (!s) return;
    this.snapSlider.value = pos;
    this.follow = pos === this.snapshots.length - 1 && this.followBox.checked;
    this.ctx.setParams({ snap: pos === this.snapshots.length - 1 ? null : pos });
    if (!s.data) {
      try {
        s.data = (await api(`/api/runs/${this.id}/snapshots/${s.index}`)).data;
      } catch (err) {
        toast(`Snapshot: ${errorMessage(err)}`, { error: true });
        return;
      }
    }
    this.snapLabel.textContent = `${pos + 1} of ${this.snapshots.length} · iteration ${s.step}`;
    this.view.set(s.data);
  }

  onSnapshot(msg) {
    const data = msg.data ?? msg.snapshot ?? msg;
    const index = msg.index ?? (this.snapshots.length ? this.snapshots[this.snapshots.length - 1].index + 1 : 0);
    if (this.snapshots.some((s) => s.step === msg.step)) return;
    this.snapshots.push({ index, step: msg.step, data });
    this.updateSlider();
    if (this.follow || this.snapshots.length === 1) this.pickSnapshot(this.snapshots.length - 1);
    else this.snapLabel.textContent = `${Number(this.snapSlider.value) + 1} of ${this.snapshots.length}`;
  }

  appendLog(l) {
    const t = l.time ? new Date(l.time * 1000).toLocaleTimeString() : "";
    this.logs.append(`${t} ${l.level ?? ""} ${l.message}\n`);
    this.logs.scrollTop = this.logs.scrollHeight;
  }

  destroy() {
    this.socket?.close();
    clearInterval(this.flushTimer);
    clearInterval(this.clockTimer);
    this.protocol?.destroy();
    this.view?.destroy();
  }
}

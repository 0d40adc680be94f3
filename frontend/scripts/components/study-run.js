// One study run: status, live progress and log over the run's websocket, cancel, and its result
// once finished (StudyResultView). Tells the page about status changes through onChange(run).

import { api, errorMessage } from "../api.js";
import { h, toast } from "../dom.js";
import { applyStudyMessage, elapsedSeconds, isTerminal, studyProgress, studyTotalSteps } from "../logic/studies.js";
import { openSocket } from "../socket.js";
import { StudyResultView } from "./study-result.js";

const MAX_LOG_LINES = 200;

export class StudyRunView {
  /**
   * @param {HTMLElement} container
   * @param {{study?: object, expectedSeconds?: number, onChange?: Function}} opts
   *   study: the catalogue entry (its defaults and whether it trains tell the number of steps)
   */
  constructor(container, { study = null, expectedSeconds, onChange = () => {} } = {}) {
    this.container = container;
    this.study = study;
    this.expectedSeconds = expectedSeconds;
    this.live = {};
    this.onChange = onChange;
    this.header = h("div", { "data-testid": "study-run" });
    this.logEl = h("pre", { class: "small study-log", "data-testid": "study-log" });
    this.resultBox = h("div", { "data-testid": "study-result" });
    this.result = new StudyResultView(this.resultBox);
    this.lines = [];
    container.replaceChildren(this.header, h("details", { class: "small" }, h("summary", {}, "Log"), this.logEl), this.resultBox);
    container.hidden = true; // until a run is opened
  }

  /** Show run `id`: REST first, then the socket while it is active. */
  async open(id) {
    this.close();
    this.container.hidden = false;
    this.id = Number(id);
    try {
      this.run = await api(`/api/runs/${this.id}`);
    } catch (err) {
      this.header.replaceChildren(h("div", { class: "errorbox", "data-testid": "study-error" }, `Could not load run #${id}: ${errorMessage(err)}`));
      return;
    }
    if (this.run.kind !== "study") {
      this.header.replaceChildren(h("div", { class: "errorbox" }, `Run #${id} is a training run: `, h("a", { href: `#/run?id=${id}` }, "open it in the run view")));
      return;
    }
    this.live = { step: this.run.step ?? 0, loss: this.run.last_metrics?.loss };
    this.total = this.study && this.run.study === this.study.name ? studyTotalSteps(this.study, this.run.params) : null;
    this.render();
    await this.loadLogs();
    if (isTerminal(this.run.status)) return this.finish();
    this.socket = openSocket(`/ws/runs/${this.id}`, { onMessage: (m) => this.onMessage(m) });
    this.timer = setInterval(() => this.render(), 500);
  }

  onMessage(msg) {
    if (msg.run_id !== this.id || !this.run) return;
    if (msg.type === "status") {
      Object.assign(this.run, { status: msg.status, step: msg.step, error: msg.error });
      if (this.run.status === "running" && !this.run.started_at) this.run.started_at = new Date().toISOString();
      this.render();
      this.onChange(this.run);
      if (isTerminal(msg.status)) this.refetch();
    } else {
      // Metrics (step, loss), snapshots (endpoint error) and log lines (phase) feed the live line;
      // the timer redraws it twice a second.
      this.live = applyStudyMessage(this.live, msg);
      if (msg.type === "metric") this.run.step = Math.max(this.run.step ?? 0, msg.step);
      else if (msg.type === "log") this.addLog(msg);
    }
  }

  async refetch() {
    this.stopLive();
    try {
      this.run = await api(`/api/runs/${this.id}`);
    } catch (err) {
      toast(`Run #${this.id}: ${errorMessage(err)}`, { error: true });
    }
    this.render();
    this.onChange(this.run);
    await this.finish();
  }

  async finish() {
    if (this.run.status !== "finished") return;
    this.resultBox.replaceChildren(h("p", { class: "hint" }, "Loading the result…"));
    try {
      this.result.show(await api(`/api/runs/${this.id}/result`));
    } catch (err) {
      this.resultBox.replaceChildren(h("div", { class: "errorbox", "data-testid": "study-error" }, `Could not load the result: ${errorMessage(err)}`));
    }
  }

  async loadLogs() {
    try {
      this.lines = [];
      for (const line of await api(`/api/runs/${this.id}/logs?limit=${MAX_LOG_LINES}`)) this.addLog(line);
    } catch {
      this.logEl.textContent = "(the log could not be loaded)";
    }
  }

  addLog(line) {
    this.live = applyStudyMessage(this.live, { type: "log", message: line.message });
    this.lines.push(`${line.level}: ${line.message}`);
    if (this.lines.length > MAX_LOG_LINES) this.lines.shift();
    this.logEl.textContent = this.lines.join("\n");
  }

  render() {
    const r = this.run;
    if (!r) return;
    const p = studyProgress(r, this.expectedSeconds, elapsedSeconds(r), this.live, this.total);
    const active = !isTerminal(r.status);
    const problem = {
      failed: ["This study failed: ", r.error ?? "no message (see the log)"],
      cancelled: ["This study was cancelled before it finished.", ""],
      interrupted: ["The server stopped while this study was running; run it again.", ""],
    }[r.status];
    this.header.replaceChildren(
      h(
        "div",
        { class: "toolbar" },
        h("strong", {}, `${r.name} `, h("span", { class: "muted small" }, `#${r.id}`)),
        h("span", { class: `badge ${r.status}`, "data-testid": "study-status" }, r.status),
        h("span", { class: "progress" }, h("span", { style: `width:${Math.round(100 * p.fraction)}%` })),
        h("span", { class: "small muted", "data-testid": "study-progress" }, p.text),
        h("span", { class: "grow" }),
        active ? h("button", { onclick: () => this.cancel(), "data-testid": "study-cancel" }, "Cancel") : null
      ),
      ...(problem ? [h("div", { class: "errorbox", "data-testid": "study-error" }, h("strong", {}, problem[0]), problem[1])] : [])
    );
  }

  async cancel() {
    try {
      this.run = await api(`/api/runs/${this.id}/cancel`, { method: "POST" });
      this.render();
    } catch (err) {
      toast(`Cancel: ${errorMessage(err)}`, { error: true });
    }
  }

  stopLive() {
    this.socket?.close();
    this.socket = null;
    clearInterval(this.timer);
    this.timer = null;
  }

  /** Stop following and free the plots. */
  close() {
    this.stopLive();
    this.result.clear();
    this.run = null;
    this.id = null;
    this.container.hidden = true;
  }
}

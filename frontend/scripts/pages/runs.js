// Runs: launch from a preset, the table (status, progress, key metrics, duration), cancel,
// resume, delete, and compare several runs.

import { api, errorMessage, getPresets, items } from "../api.js";
import { ComparePanel } from "../components/compare.js";
import { duration, fmt, h, toast } from "../dom.js";
import { progressText } from "../logic/metrics.js";
import { STATUSES, canResume, isActive, queueText } from "../logic/status.js";
import { SUGGESTED_COLUMNS, cellText, parseColumns, placementText, valueAt } from "../logic/runcolumns.js";
import { parseList } from "../logic/urlstate.js";


/** A run's latest evaluation endpoint error as "1.23 cm" (the run summary's last_eval_error, in m). */
function evalError(r) {
  const key = Object.keys(r.last_metrics ?? {}).find((k) => k.includes("endpoint_error"));
  const v = r.last_eval_error ?? (key ? r.last_metrics[key] : null);
  return Number.isFinite(v) ? `${fmt(v * 100, 3)} cm` : "—";
}

export async function mount(root, params, ctx) {
  const page = new RunsPage(root, ctx);
  await page.init(params);
  return page;
}

class RunsPage {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.title = "Runs";
    this.runs = [];
    this.timer = null;
  }

  async init(params) {
    this.params = params;
    this.compare = new Set(parseList(params.compare));
    this.cols = parseColumns(params.cols);
    this.specs = this.specs ?? new Map(); // run id -> its RunSpec (a promise), for the parameter columns
    let presets = { runs: {} };
    try {
      presets = await getPresets();
    } catch (err) {
      toast(`Presets: ${errorMessage(err)}`, { error: true });
    }
    this.presetSel = h("select", { "data-testid": "launch-preset" }, ...Object.keys(presets.runs).map((n) => h("option", { value: n }, n)));
    this.iters = h("input", { type: "number", min: 1, value: 200, "data-testid": "launch-iterations", "aria-label": "iterations" });
    this.runName = h("input", { type: "text", placeholder: "name (optional)", "data-testid": "launch-name" });
    this.compiled = h("input", { type: "checkbox", "data-testid": "launch-compiled" });
    this.statusSel = h("select", { "aria-label": "status filter" }, h("option", { value: "" }, "any status"), ...STATUSES.map((s) => h("option", { value: s, selected: s === params.status }, s)));
    this.nameFilter = h("input", { type: "search", placeholder: "filter by name", value: params.name ?? "" });
    this.tagFilter = h("input", { type: "search", placeholder: "tag", value: params.tag ?? "", style: "width:8rem" });
    const sorts = [["-created", "newest first"], ["created", "oldest first"], ["name", "name"], ["status", "status"]];
    this.sortSel = h("select", { "aria-label": "sort" }, ...sorts.map(([v, t]) => h("option", { value: v, selected: v === (params.sort ?? "-created") }, t)));
    this.statusSel.addEventListener("change", () => this.filter());
    this.nameFilter.addEventListener("input", () => this.filter());
    this.tagFilter.addEventListener("input", () => this.filter());
    this.sortSel.addEventListener("change", () => this.filter());
    this.table = h("tbody");
    this.empty = h("p", { class: "hint" });
    const compareBox = h("div");
    this.comparePanel = new ComparePanel(compareBox);
    this.root.replaceChildren(
      h("h1", {}, "Runs"),
      h("p", { class: "hint" }, "Each run trains a network on a task. Launch one from a preset (or from the task designer), open it to watch it live, tick several to compare."),
      h(
        "div",
        { class: "toolbar panel" },
        h("strong", {}, "Quick launch"),
        h("label", {}, "preset ", this.presetSel),
        h("label", {}, "iterations ", this.iters),
        h(
          "label",
          { title: "Unticked (the default, train.compile: auto), a run compiles its training steps when its length pays for the compilation (~20 s cold, a few seconds once the studio's idle warm-up or an earlier run cached the graph; then about 3.5x faster iterations); its log says which path it took and why. Ticked: always compile." },
          this.compiled,
          " always compile"
        ),
        this.runName,
        h("button", { class: "primary", onclick: () => this.launch(), "data-testid": "launch-run" }, "Launch"),
        h("span", { class: "grow" }),
        this.importControl(),
        h("a", { href: "#/task", class: "button" }, "Design a custom run…")
      ),
      (this.importError = h("div", { class: "errorbox", "data-testid": "import-error", hidden: true })),
      h(
        "section",
        { class: "panel" },
        h("div", { class: "toolbar" }, this.statusSel, this.nameFilter, this.tagFilter, this.sortSel, h("span", { class: "grow" }), this.columnControl(), h("button", { onclick: () => this.refresh() }, "Refresh")),
        h(
          "table",
          { class: "runs", "data-testid": "runs-table" },
          (this.head = h("thead")),
          this.table
        ),
        this.empty
      ),
      h("section", { class: "panel" }, h("h2", {}, "Compare"), compareBox)
    );
    await this.refresh();
    this.showCompare();
  }

  filter() {
    const sort = this.sortSel.value === "-created" ? null : this.sortSel.value;
    this.ctx.setParams({ status: this.statusSel.value || null, name: this.nameFilter.value || null, tag: this.tagFilter.value || null, sort });
    this.refresh();
  }

  async refresh() {
    clearTimeout(this.timer);
    const q = new URLSearchParams();
    if (this.statusSel.value) q.set("status", this.statusSel.value);
    if (this.nameFilter.value) q.set("name", this.nameFilter.value);
    if (this.tagFilter.value) q.set("tag", this.tagFilter.value);
    q.set("sort", this.sortSel.value);
    try {
      this.runs = items(await api(`/api/runs?${q}`));
      await this.loadSpecs();
      this.render();
    } catch (err) {
      this.empty.textContent = `Could not load the runs: ${errorMessage(err)}`;
    }
    if (this.runs.some((r) => isActive(r.status))) this.timer = setTimeout(() => this.refresh(), 1500);
  }

  render() {
    const cols = [
      ["", ""],
      ["name", ""],
      ["preset", ""],
      ["status", ""],
      ["progress", ""],
      ["loss", "total loss at the latest step"],
      ["grad norm", "gradient norm at the latest step"],
      ["endpoint error", "mean distance from the hand to the target at the end of the latest evaluation's reaches"],
      ["duration", ""],
      ["ran on", "the machine (a local process, or a Ray node: its address and id) and the device the run trained on"],
    ];
    const remove = (path) => h("button", { class: "small link", title: `remove the column ${path}`, "aria-label": `remove column ${path}`, onclick: () => this.setColumns(this.cols.filter((c) => c !== path)) }, "×");
    this.head.replaceChildren(
      h(
        "tr",
        {},
        ...cols.map(([c, title]) => h("th", { title: title || null }, c)),
        ...this.cols.map((path) => h("th", { class: "param-col", "data-col": path, title: `the spec's ${path}` }, path, " ", remove(path))),
        h("th", {}, "")
      )
    );
    this.empty.textContent = this.runs.length ? "" : "No runs yet: launch one above.";
    this.table.replaceChildren(...this.runs.map((r) => this.row(r)));
  }

  row(r) {
    const check = h("input", { type: "checkbox", checked: this.compare.has(String(r.id)), "aria-label": `compare run ${r.id}` });
    check.addEventListener("change", () => {
      if (check.checked) this.compare.add(String(r.id));
      else this.compare.delete(String(r.id));
      this.ctx.setParams({ compare: [...this.compare] });
      this.showCompare();
    });
    const act = (label, fn, cls = "") => h("button", { class: `small ${cls}`, onclick: fn }, label);
    const actions = [h("a", { href: `#/run?id=${r.id}`, class: "button small" }, "Open")];
    if (isActive(r.status)) actions.push(act("Cancel", () => this.action(r, "cancel")));
    if (canResume(r.status, r.checkpoint_step)) actions.push(act("Resume", () => this.action(r, "resume")));
    if (!isActive(r.status)) actions.push(act("Delete", () => this.remove(r), "danger"));
    const m = r.last_metrics ?? {};
    const status = h("span", { class: `badge ${r.status}`, title: r.error ?? "" }, r.status);
    return h(
      "tr",
      { "data-run-id": r.id, "data-status": r.status },
      h("td", {}, check),
      h("td", {}, h("a", { href: `#/run?id=${r.id}` }, r.name), h("div", { class: "small muted" }, `#${r.id}${r.tags?.length ? " · " + r.tags.join(", ") : ""}`)),
      h("td", {}, r.preset ?? "custom"),
      h(
        "td",
        {},
        status,
        queueText(r) ? h("div", { class: "small muted", "data-testid": "run-queue" }, queueText(r)) : null,
        r.error ? h("div", { class: "small", style: "color:var(--bad);white-space:normal;max-width:16rem" }, r.error.slice(0, 160)) : null
      ),
      h("td", {}, h("span", { class: "progress" }, h("span", { style: `width:${Math.round(100 * (r.progress ?? 0))}%` })), " ", h("span", { class: "small muted" }, progressText(r.step, r.n_iterations, r.progress))),
      h("td", {}, fmt(m.loss)),
      h("td", {}, fmt(m.grad_norm)),
      h("td", { "data-testid": "run-eval-error" }, evalError(r)),
      h("td", {}, duration(r.duration)),
      h("td", { class: "small", "data-testid": "run-placement" }, placementText(r)),
      ...this.cols.map((path) => h("td", { "data-col": path }, cellText(valueAt(this.specOf(r), path)))),
      h("td", {}, ...actions)
    );
  }

  async action(r, verb) {
    try {
      await api(`/api/runs/${r.id}/${verb}`, { method: "POST" });
      toast(`${verb === "cancel" ? "Cancelling" : "Resuming"} run #${r.id}`);
    } catch (err) {
      toast(`${verb}: ${errorMessage(err)}`, { error: true });
    }
    this.refresh();
  }

  async remove(r) {
    if (!confirm(`Delete run #${r.id} “${r.name}” and its checkpoints?`)) return;
    try {
      await api(`/api/runs/${r.id}`, { method: "DELETE" });
      this.compare.delete(String(r.id));
      this.ctx.setParams({ compare: [...this.compare] });
      toast(`Deleted run #${r.id}`);
    } catch (err) {
      toast(`Delete: ${errorMessage(err)}`, { error: true });
    }
    this.refresh();
    this.showCompare();
  }

  async launch() {
    const body = { preset: this.presetSel.value, overrides: {} };
    const n = Number(this.iters.value);
    if (Number.isFinite(n) && n > 0) body.overrides["train.n_iterations"] = n;
    if (this.compiled.checked) body.overrides["train.compile"] = true;
    if (this.runName.value.trim()) body.name = this.runName.value.trim();
    try {
      const run = await api("/api/runs", { method: "POST", body });
      toast(`Launched run #${run.id}`);
      await this.refresh();
    } catch (err) {
      toast(`Not launched: ${errorMessage(err)}`, { error: true });
    }
  }

  // ---- parameter columns: spec paths chosen by the user, kept in the URL as `cols` ----

  columnControl() {
    const list = h("datalist", { id: "run-column-paths" }, ...SUGGESTED_COLUMNS.map((p) => h("option", { value: p })));
    const input = h("input", { type: "text", list: "run-column-paths", placeholder: "spec path, e.g. train.lr", "aria-label": "parameter column", "data-testid": "column-path", style: "width:13rem" });
    const add = () => {
      const more = parseColumns(input.value);
      if (!more.length) return toast(`Not a spec path: “${input.value}” (dotted, like policy.hidden_size)`, { error: true });
      input.value = "";
      this.setColumns([...this.cols, ...more.filter((p) => !this.cols.includes(p))]);
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") add();
    });
    return h("span", { class: "toolbar" }, list, input, h("button", { onclick: add, "data-testid": "column-add" }, "Add column"));
  }

  async setColumns(cols) {
    this.cols = cols;
    this.ctx.setParams({ cols: cols.length ? cols.join(",") : null });
    await this.loadSpecs();
    this.render();
  }

  /** Fetch the specs of the listed training runs (once each) when parameter columns are shown. */
  async loadSpecs() {
    if (!this.cols.length) return;
    const wanted = this.runs.filter((r) => (r.kind ?? "training") === "training" && !this.specs.has(r.id));
    await Promise.all(
      wanted.map((r) =>
        api(`/api/runs/${r.id}/spec`)
          .then((spec) => this.specs.set(r.id, spec))
          .catch(() => this.specs.set(r.id, null))
      )
    );
  }

  specOf(r) {
    return this.specs.get(r.id) ?? null;
  }

  // ---- checkpoint import (POST /api/runs/import with the file as the body) ----

  /** "Import checkpoint…": a file picker; the new run opens, a refusal shows the server's reason. */
  importControl() {
    const input = h("input", { type: "file", accept: ".pt,.pth,application/octet-stream", "data-testid": "import-file", style: "display:none" });
    input.addEventListener("change", () => {
      const file = input.files?.[0];
      input.value = "";
      if (file) this.importCheckpoint(file);
    });
    const button = h("button", { onclick: () => input.click(), "data-testid": "import-button", title: "a checkpoint file downloaded from a run page (this or another studio)" }, "Import checkpoint…");
    return h("span", {}, input, button);
  }

  async importCheckpoint(file) {
    this.importError.hidden = true;
    const name = file.name.replace(/\.(pt|pth)$/i, "").slice(0, 128) || "imported";
    try {
      const run = await api(`/api/runs/import?name=${encodeURIComponent(name)}`, { method: "POST", raw: file });
      toast(`Imported run #${run.id} (${run.status}, iteration ${run.step})`);
      await this.refresh();
    } catch (err) {
      this.importError.replaceChildren(h("strong", {}, `Could not import ${file.name}: `), errorMessage(err));
      this.importError.hidden = false;
    }
  }

  showCompare() {
    const byId = new Map(this.runs.map((r) => [String(r.id), r]));
    const sel = [...this.compare].map((id) => byId.get(id)).filter(Boolean);
    this.comparePanel.show(sel);
  }

  update(params) {
    this.destroy();
    this.init(params);
  }

  destroy() {
    clearTimeout(this.timer);
    this.timer = null;
  }
}

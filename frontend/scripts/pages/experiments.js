// Experiments: the list (name, status, conditions x seeds, progress, created) with open, cancel,
// resume and delete, and the way into the designer. Refreshes itself while one is active.

import { api, errorMessage, items } from "../api.js";
import { h, toast } from "../dom.js";
import { networksText } from "../logic/experiments.js";
import { canResume, isActive } from "../logic/status.js";

export async function mount(root, params, ctx) {
  const page = new ExperimentsPage(root, ctx);
  await page.init();
  return page;
}

class ExperimentsPage {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.title = "Experiments";
    this.list = [];
    this.timer = null;
  }

  async init() {
    this.body = h("tbody");
    this.empty = h("p", { class: "hint" });
    this.root.replaceChildren(
      h("h1", {}, "Experiments"),
      h(
        "p",
        { class: "hint" },
        "An experiment trains many networks: every combination of the swept values (a condition) with several seeds each, trained together as a replicate ensemble, then compared with statistics (means with 95% intervals, differences against the first condition)."
      ),
      h(
        "section",
        { class: "panel" },
        h("div", { class: "toolbar" }, h("a", { href: "#/experiments/new", class: "button primary", "data-testid": "new-experiment" }, "New experiment…"), h("span", { class: "grow" }), h("button", { onclick: () => this.refresh() }, "Refresh")),
        h(
          "table",
          { class: "runs", "data-testid": "experiments-table" },
          h("thead", {}, h("tr", {}, ...["Name", "Status", "Networks", "Progress", "Created", ""].map((t) => h("th", {}, t)))),
          this.body
        ),
        this.empty
      )
    );
    await this.refresh();
  }

  async refresh() {
    clearTimeout(this.timer);
    try {
      this.list = items(await api("/api/experiments"));
      this.render();
    } catch (err) {
      this.empty.textContent = `Could not load the experiments: ${errorMessage(err)}`;
      return;
    }
    if (this.list.some((e) => isActive(e.status))) this.timer = setTimeout(() => this.refresh(), 2000);
  }

  render() {
    this.empty.replaceChildren(
      ...(this.list.length ? [] : ["No experiments yet. ", h("a", { href: "#/experiments/new" }, "Design one"), " from a run preset, or from any run's page."])
    );
    this.body.replaceChildren(...this.list.map((e) => this.row(e)));
  }

  row(e) {
    const pct = Math.round(100 * (e.progress ?? 0));
    const actions = [h("a", { href: `#/experiments/${e.id}`, class: "button small" }, "Open")];
    if (isActive(e.status)) actions.push(h("button", { onclick: () => this.act(e, "cancel") }, "Cancel"));
    if (canResume(e.status, 0)) actions.push(h("button", { onclick: () => this.act(e, "resume") }, "Resume"));
    if (!isActive(e.status)) actions.push(h("button", { class: "danger", onclick: () => this.remove(e) }, "Delete"));
    return h(
      "tr",
      { "data-experiment": e.id },
      h("td", {}, h("a", { href: `#/experiments/${e.id}` }, e.name), h("div", { class: "small muted" }, `#${e.id}`)),
      h("td", {}, h("span", { class: `badge ${e.status}` }, e.status)),
      h("td", { class: "small" }, networksText(e.n_conditions ?? 0, e.seeds ?? 0)),
      h("td", {}, h("span", { class: "progress", title: `${pct}%` }, h("span", { style: `width:${pct}%` })), h("span", { class: "small muted" }, ` ${pct}%`)),
      h("td", { class: "small" }, e.created_at ? new Date(e.created_at).toLocaleString() : "—"),
      h("td", {}, ...actions)
    );
  }

  async act(e, what) {
    try {
      await api(`/api/experiments/${e.id}/${what}`, { method: "POST" });
      toast(`${what === "cancel" ? "Cancelled" : "Resumed"} ${e.name}`);
    } catch (err) {
      toast(`Could not ${what} ${e.name}: ${errorMessage(err)}`, { error: true });
    }
    this.refresh();
  }

  async remove(e) {
    if (!confirm(`Delete experiment “${e.name}” and its ${e.n_networks ?? ""} networks?`)) return;
    try {
      await api(`/api/experiments/${e.id}`, { method: "DELETE" });
      toast(`Deleted ${e.name}`);
    } catch (err) {
      toast(`Could not delete ${e.name}: ${errorMessage(err)}`, { error: true });
    }
    this.refresh();
  }

  destroy() {
    clearTimeout(this.timer);
  }
}

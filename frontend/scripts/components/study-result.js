// A finished study's result: headline numbers, one plot per stored figure (Plotly.react on the
// figure JSON as the server stored it), the table of numbers, and download links.

import { h } from "../dom.js";
import { claimRows, formatValue, summaryRows, tableColumns } from "../logic/studies.js";

const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

export class StudyResultView {
  /** @param {HTMLElement} container */
  constructor(container) {
    this.container = container;
    this.plots = [];
  }

  /** Render `result` ({run_id, study, seconds, figures, table, summary}) from GET /api/runs/{id}/result. */
  show(result) {
    this.clear();
    const figs = Object.entries(result.figures ?? {});
    const plotEls = figs.map(([key]) => h("div", { class: "study-figure", "data-testid": "study-figure", "data-figure": key }));
    const parts = [
      h(
        "div",
        { class: "toolbar" },
        h("h2", { style: "margin:0" }, "Result"),
        h("span", { class: "small muted" }, `run #${result.run_id} · computed in ${result.seconds.toFixed(1)} s`),
        h("span", { class: "grow" }),
        h("a", { class: "button small", href: `/api/runs/${result.run_id}/result/table.csv`, download: `${result.study}-${result.run_id}.csv` }, "Table (CSV)"),
        h("a", { class: "button small", href: `/api/runs/${result.run_id}/result/figures.json`, download: `${result.study}-${result.run_id}-figures.json` }, "Figures (JSON)"),
        h("a", { class: "button small", href: `/api/runs/${result.run_id}/result/summary.json`, download: `${result.study}-${result.run_id}-summary.json` }, "Summary (JSON)")
      ),
      this.claims(result.summary),
      this.summary(result.summary),
      ...plotEls,
      this.table(result.table),
    ];
    this.container.replaceChildren(...parts.filter(Boolean));
    figs.forEach(([, fig], i) => {
      const el = plotEls[i];
      const layout = { ...(fig.layout ?? {}), autosize: true, paper_bgcolor: "#fff", plot_bgcolor: "#fff" };
      if (window.Plotly && el.isConnected) window.Plotly.react(el, fig.data ?? [], layout, CONFIG);
      this.plots.push(el);
    });
  }

  /** The claims and their direct tests: mean [95% interval across seeds], n, test, p, verdict. */
  claims(summary) {
    const rows = claimRows(summary);
    if (!rows.length) return null;
    const cols = [
      ["claim", "Claim"],
      ["estimate", "Mean [95% interval]"],
      ["n", "n"],
      ["test", "Test"],
      ["p", "p"],
      ["verdict", "Holds"],
      ["replication", "Paper"],
    ];
    const good = { verdict: "holds", replication: "replicates" };
    const cls = (key, row) => {
      if (!(key in good)) return null;
      return row[key] === "—" ? "verdict" : `verdict ${row[key] === good[key] ? "ok" : "no"}`;
    };
    const cell = (key, row) => (key === "n" ? formatValue(row.n) : row[key]);
    return h(
      "div",
      { class: "table-wrap study-claims-wrap" },
      h("h3", { style: "margin:.4rem 0" }, "Claims and their tests"),
      h(
        "table",
        { class: "runs study-table study-claims", "data-testid": "study-claims" },
        h("thead", {}, h("tr", {}, ...cols.map(([, label]) => h("th", {}, label)))),
        h(
          "tbody",
          {},
          ...rows.map((row) =>
            h("tr", {}, ...cols.map(([key]) => h("td", { class: cls(key, row), title: key === "claim" ? row.measure : null }, cell(key, row))))
          )
        )
      ),
      h("p", { class: "hint small" }, "Each estimate is the mean across seeds (one network each) with its 95% bootstrap interval; “Paper”: whether the verdict matches the paper's finding where it states one.")
    );
  }

  summary(summary) {
    const rows = summaryRows(summary);
    if (!rows.length) return null;
    return h(
      "details",
      { class: "study-summary", open: true, "data-testid": "study-summary" },
      h("summary", {}, h("strong", {}, "Key numbers")),
      h("dl", { class: "kv" }, ...rows.flatMap((r) => [h("dt", {}, r.key), h("dd", {}, formatValue(r.value))]))
    );
  }

  table(rows) {
    if (!rows?.length) return h("p", { class: "hint" }, "This study has no table.");
    const cols = tableColumns(rows);
    // Numbers line up on the right (their headers with them); text columns stay on the left.
    const num = cols.map((c) => rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === "number"));
    const cls = (i) => (num[i] ? "num" : null);
    return h(
      "div",
      { class: "table-wrap", "data-testid": "study-table-wrap" },
      h(
        "table",
        { class: "runs study-table", "data-testid": "study-table" },
        h("thead", {}, h("tr", {}, ...cols.map((c, i) => h("th", { class: cls(i) }, c.replace(/_/g, " "))))),
        h("tbody", {}, ...rows.map((row) => h("tr", {}, ...cols.map((c, i) => h("td", { class: cls(i) }, formatValue(row[c]))))))
      )
    );
  }

  /** Remove the plots and their Plotly resources. */
  clear() {
    for (const el of this.plots) if (window.Plotly) window.Plotly.purge(el);
    this.plots = [];
    this.container.replaceChildren();
  }
}

// The final metrics of each condition: n, mean, sd, 95% interval, and against the reference
// condition the difference of means with its interval and Welch's p.

import { fmt, h } from "../dom.js";
import { conditionColour, finalRows, formatP } from "../logic/experiments.js";

export class FinalTable {
  /** @param {HTMLElement} el */
  constructor(el) {
    this.el = el;
  }

  draw(agg, key) {
    const rows = finalRows(agg, key);
    const ref = rows.find((r) => r.reference);
    const ci = (lo, hi) => (lo === null || hi === null ? "—" : `[${fmt(lo)}, ${fmt(hi)}]`);
    const head = ["Condition", "n", "mean", "sd", "95% CI", `Δ vs ${ref ? ref.label : "reference"}`, "95% CI of Δ", "Welch p"];
    this.el.replaceChildren(
      h(
        "table",
        { class: "runs stats-table", "data-testid": "final-table", "data-metric": key },
        h("thead", {}, h("tr", {}, ...head.map((t) => h("th", {}, t)))),
        h(
          "tbody",
          {},
          ...rows.map((r, i) =>
            h(
              "tr",
              { "data-condition": r.index },
              h("td", {}, h("span", { class: "swatch", style: `background:${conditionColour(i, rows.length)}` }), r.label, r.reference ? h("span", { class: "small muted" }, " (reference)") : null),
              h("td", { "data-col": "n" }, String(r.n)),
              h("td", { "data-col": "mean" }, fmt(r.mean)),
              h("td", { "data-col": "sd" }, fmt(r.sd)),
              h("td", { "data-col": "ci" }, ci(r.low, r.high)),
              h("td", { "data-col": "diff" }, r.reference ? "—" : fmt(r.diff)),
              h("td", { "data-col": "diff-ci" }, r.reference ? "—" : ci(r.diffLow, r.diffHigh)),
              h("td", { "data-col": "p", class: r.p !== null && r.p < 0.05 ? "signif" : "" }, r.reference ? "—" : formatP(r.p))
            )
          )
        )
      ),
      h("p", { class: "hint" }, `Final ${key} over each condition's seeds. 95% CI: BCa bootstrap interval of the mean (needs ≥ 2 seeds). Δ: difference of means against the first condition, with its bootstrap interval and Welch's t-test p-value (unequal variances).`)
    );
  }
}

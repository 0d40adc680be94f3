import assert from "node:assert/strict";
import { test } from "node:test";

import {
  applyExperimentMessage,
  bandTraces,
  countConditions,
  designBody,
  designFromParams,
  designToParams,
  dimension,
  experimentRuns,
  finalRows,
  formatP,
  networksText,
  parcoordsTrace,
  placeErrors,
  seedValues,
  stripTraces,
} from "../../frontend/scripts/logic/experiments.js";

const AGG = {
  reference: 0,
  conditions: [
    {
      index: 0,
      label: "lr=0.001",
      values: { "train.lr": 0.001 },
      n: 2,
      run_ids: [11, 12],
      final: { loss: { n: 2, mean: 1.0, sd: 0.1, low: 0.9, high: 1.1 } },
      curves: { loss: { step: [1, 2, 3], mean: [2, 1.5, 1], sd: [0.1, 0.1, 0.1], low: [1.9, 1.4, 0.9], high: [2.1, 1.6, 1.1], n: [2, 2, 2] } },
      vs_reference: { loss: null },
    },
    {
      index: 1,
      label: "lr=0.01",
      values: { "train.lr": 0.01 },
      n: 2,
      run_ids: [13, 14],
      final: { loss: { n: 2, mean: 0.5, sd: 0.05, low: 0.45, high: 0.55 } },
      curves: { loss: { step: [1, 2, 3], mean: [2, 1, 0.5], sd: [null, 0.1, 0.1], low: [null, 0.9, 0.45], high: [null, 1.1, 0.55], n: [1, 2, 2] } },
      vs_reference: { loss: { difference: -0.5, low: -0.6, high: -0.4, t: -7, p: 0.0004, n: 2, n_reference: 2 } },
    },
  ],
};

test("designer state round trips through URL params", () => {
  const d = { preset: "tiny_point_mass", run: "", name: "lr sweep", notes: "", seeds: 2, sweep: [{ path: "train.lr", text: "0.001, 0.01" }], set: [{ path: "train.n_iterations", text: "10" }] };
  const p = designToParams(d);
  assert.equal(p.notes, null);
  assert.deepEqual(designFromParams(Object.fromEntries(Object.entries(p).filter(([, v]) => v !== null))), d);
  assert.deepEqual(designFromParams({ sweep: "not json", seeds: "x" }).sweep, []);
  assert.equal(designFromParams({ seeds: "x" }).seeds, 2);
});

test("designBody builds a preset body with grid and overrides", () => {
  const d = { preset: "tiny_point_mass", run: "", name: "", notes: "n", seeds: 2, sweep: [{ path: "train.lr", text: "0.001, 0.003, 0.01" }], set: [{ path: "train.n_iterations", text: "10" }] };
  const { body, errors } = designBody(d, { types: { "train.lr": "number", "train.n_iterations": "integer" } });
  assert.deepEqual(errors, {});
  assert.deepEqual(body, { preset: "tiny_point_mass", overrides: { "train.n_iterations": 10 }, grid: { "train.lr": [0.001, 0.003, 0.01] }, seeds: 2, notes: "n" });
});

test("designBody from a run spec applies the set values and resets replicates", () => {
  const d = { preset: "", run: "7", name: "from run", notes: "", seeds: 3, sweep: [{ path: "policy.hidden_size", text: "8, 16" }], set: [{ path: "train.lr", text: "0.01" }] };
  const base = { name: "r", train: { lr: 0.001, replicates: 4 }, policy: { hidden_size: 8 } };
  const { body } = designBody(d, { baseSpec: base });
  assert.deepEqual(body, { spec: { name: "from run", base: { name: "r", train: { lr: 0.01, replicates: 1 }, policy: { hidden_size: 8 } }, grid: { "policy.hidden_size": [8, 16] }, seeds: 3, notes: "" } });
  assert.equal(base.train.lr, 0.001, "the run's spec is not changed");
});

test("designBody reports row errors", () => {
  const d = { preset: "", run: "", name: "", notes: "", seeds: 0, sweep: [{ path: "", text: "1" }, { path: "train.lr", text: "abc" }, { path: "train.lr", text: "1" }], set: [{ path: "train.seed", text: "1, 2" }] };
  const { body, errors } = designBody(d, { types: { "train.lr": "number" } });
  assert.equal(body, null);
  assert.deepEqual(Object.keys(errors).sort(), ["preset", "seeds", "set.0", "sweep.0", "sweep.1", "sweep.2"]);
  assert.match(errors["sweep.2"], /already swept/);
});

test("placeErrors puts 422 locations at the designer's fields", () => {
  const d = { sweep: [{ path: "train.lr", text: "" }, { path: "task.perturbations", text: "" }], set: [{ path: "train.n_iterations", text: "" }] };
  const placed = placeErrors(
    [
      { loc: "grid.train.lr", msg: "bad lr" },
      { loc: "grid.task.perturbations.0.gain", msg: "bad gain" },
      { loc: "overrides.train.n_iterations", msg: "too many" },
      { loc: "base.train.lr", msg: "base lr" },
      { loc: "seeds", msg: "too many seeds" },
      { loc: "grid.policy.size", msg: "unknown" },
      { loc: "", msg: "whole" },
    ],
    d
  );
  assert.deepEqual(placed["sweep.0"], ["bad lr", "base lr"]);
  assert.deepEqual(placed["sweep.1"], ["bad gain"]);
  assert.deepEqual(placed["set.0"], ["too many"]);
  assert.deepEqual(placed.seeds, ["too many seeds"]);
  assert.deepEqual(placed[""], ["grid.policy.size: unknown", "whole"]);
});

test("countConditions and networksText", () => {
  const d = { sweep: [{ path: "a", text: "1,2,3" }, { path: "b", text: "x, y" }] };
  assert.equal(countConditions(d), 6);
  assert.equal(networksText(3, 2), "3 conditions × 2 seeds = 6 networks");
  assert.equal(networksText(1, 1), "1 condition × 1 seed = 1 network");
});

test("applyExperimentMessage merges experiment messages only", () => {
  const exp = { id: 1, status: "queued", progress: 0 };
  assert.deepEqual(applyExperimentMessage(exp, { type: "experiment", status: "running", progress: 0.5 }), { id: 1, status: "running", progress: 0.5 });
  assert.equal(applyExperimentMessage(exp, { type: "other", status: "x" }), exp);
});

test("experimentRuns lists each network with its condition and seed", () => {
  assert.deepEqual(experimentRuns({ conditions: [{ index: 0, label: "a", run_ids: [5, 6] }] }), [
    { run_id: 5, condition: 0, seed: 0, label: "a" },
    { run_id: 6, condition: 0, seed: 1, label: "a" },
  ]);
});

test("bandTraces gives an upper edge, a filled lower edge and a mean per condition", () => {
  const t = bandTraces(AGG, "loss");
  assert.equal(t.length, 6);
  assert.deepEqual(t.map((x) => x.meta.role), ["band-high", "band", "mean", "band-high", "band", "mean"]);
  assert.equal(t[1].fill, "tonexty");
  assert.equal(t[2].name, "lr=0.001");
  assert.equal(t[0].line.color, t[2].line.color);
  assert.notEqual(t[2].line.color, t[5].line.color);
  assert.deepEqual(t[3].y, [null, 1.1, 0.55]);
  assert.deepEqual(bandTraces(AGG, "nope"), []);
});

test("finalRows carries the statistics and the comparison with the reference", () => {
  const rows = finalRows(AGG, "loss");
  assert.equal(rows[0].reference, true);
  assert.equal(rows[0].diff, null);
  assert.deepEqual([rows[1].n, rows[1].mean, rows[1].low, rows[1].high, rows[1].diff, rows[1].p], [2, 0.5, 0.45, 0.55, -0.5, 0.0004]);
  assert.equal(finalRows(AGG, "mean_endpoint_error")[0].mean, null);
  assert.equal(formatP(0.0004), "< 0.001");
  assert.equal(formatP(0.0321), "0.032");
  assert.equal(formatP(null), "—");
});

test("seedValues reads per-run finals from the aggregates, else from run summaries", () => {
  const runs = { 11: { last_metrics: { loss: 0.95 } }, 12: { last_metrics: { loss: 1.05 } }, 13: { last_eval_error: 0.02, last_metrics: {} } };
  const agg = structuredClone(AGG);
  agg.conditions[1].runs = [{ run_id: 14, final: { loss: 0.52 } }];
  const s = seedValues(agg, "loss", runs);
  assert.deepEqual(s[0].values.map((v) => v.value), [0.95, 1.05]);
  assert.deepEqual(s[1].values.map((v) => v.value), [null, 0.52]);
  assert.equal(seedValues(agg, "mean_endpoint_error", runs)[1].values[0].value, 0.02);
});

test("stripTraces draws seeds as dots and the mean with its interval", () => {
  const runs = { 11: { last_metrics: { loss: 0.95 } }, 12: { last_metrics: { loss: 1.05 } }, 13: { last_metrics: { loss: 0.45 } }, 14: { last_metrics: { loss: 0.55 } } };
  const { traces, ticktext, tickvals } = stripTraces(AGG, "loss", runs);
  assert.deepEqual(ticktext, ["lr=0.001", "lr=0.01"]);
  assert.deepEqual(tickvals, [0, 1]);
  const dots = traces.filter((t) => t.meta.role === "seeds");
  assert.deepEqual(dots.map((t) => t.y.length), [2, 2]);
  assert.deepEqual(dots[1].customdata, [13, 14]);
  const ci = traces.find((t) => t.meta.role === "mean-ci" && t.meta.condition === 1);
  assert.deepEqual(ci.y, [0.5]);
  assert.ok(Math.abs(ci.error_y.array[0] - 0.05) < 1e-12 && Math.abs(ci.error_y.arrayminus[0] - 0.05) < 1e-12);
});

test("parcoordsTrace: one axis per swept path and metric, a line per network or condition", () => {
  const runs = { 11: { last_metrics: { loss: 0.95 } }, 12: { last_metrics: { loss: 1.05 } }, 13: { last_metrics: { loss: 0.45 } }, 14: { last_metrics: { loss: 0.55 } } };
  const t = parcoordsTrace(AGG, ["loss"], { runsById: runs });
  assert.equal(t.type, "parcoords");
  assert.deepEqual(t.dimensions.map((d) => d.label), ["train.lr", "loss"]);
  assert.deepEqual(t.dimensions[0].values, [0.001, 0.001, 0.01, 0.01]);
  assert.deepEqual(t.dimensions[1].values, [0.95, 1.05, 0.45, 0.55]);
  const c = parcoordsTrace(AGG, ["loss"], { per: "condition" });
  assert.deepEqual(c.dimensions[1].values, [1.0, 0.5]);
  assert.equal(c.meta.lines, 2);
  assert.equal(parcoordsTrace({ conditions: [] }, ["loss"]), null);
});

test("dimension encodes non-numeric values as categories", () => {
  const d = dimension("task.perturbations", [[], [{ kind: "curl_field" }], []]);
  assert.deepEqual(d.values, [0, 1, 0]);
  assert.deepEqual(d.ticktext, ["[]", '[{"kind":"curl_field"}]']);
  assert.deepEqual(dimension("x", [1, null]).values, [1, NaN]);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { blockMarks, blockRanges, eigenTraces, paramFields, paramsBody, protocolTraces, runningMean, trajectoryTraces, viewGroups } from "../../frontend/scripts/logic/dynamics.js";

const SCHEMA = {
  properties: {
    n_initial: { type: "integer", minimum: 1, maximum: 256, default: 32, description: "searches" },
    lr: { type: "number", exclusiveMinimum: 0, maximum: 1, default: 0.01 },
    input_time: { anyOf: [{ type: "number", minimum: 0, maximum: 20 }, { type: "null" }], default: null },
    name: { type: "string" },
  },
};

test("the form's fields come from the schema, nullable ones marked", () => {
  const f = paramFields(SCHEMA);
  assert.deepEqual(f.map((x) => x.name), ["n_initial", "lr", "input_time"]);
  assert.equal(f[0].max, 256);
  assert.equal(f[1].min, 0);
  assert.equal(f[1].exclusiveMin, true);
  assert.equal(f[2].nullable, true);
});

test("the body: numbers parsed, blank nullable null, blank others left out, bad text named", () => {
  const f = paramFields(SCHEMA);
  assert.deepEqual(paramsBody(f, { n_initial: "8", lr: "", input_time: "" }), { body: { n_initial: 8, input_time: null }, errors: [] });
  const bad = paramsBody(f, { n_initial: "2.5", lr: "x" });
  assert.deepEqual(bad.errors.map((e) => e.loc), ["n_initial", "lr"]);
});

const RESULT = {
  trajectories: [[[0, 0], [1, 1]], [[0, 0], [-1, 2]]],
  tangling: [[0, 1], [0, 2]],
  explained_variance_ratio: [0.6, 0.3],
  areas: [{ name: "network", start: 0, stop: 4, trajectories: [], tangling: [], fixed_points_pc: [] }],
  fixed_points: { pc: [[0.5, 0.5], [2, 2]], stable: [true, false], q: [1e-9, 2e-7], eigenvalues_real: [[0.5, 0.2], [1.5, 0.1]], eigenvalues_imag: [[0.1, -0.1], [0, 0]] },
};

test("a single network is one group; areas add one each", () => {
  assert.deepEqual(viewGroups(RESULT).map((g) => g.name), ["whole network"]);
  const two = { ...RESULT, areas: [{ name: "premotor", trajectories: [] }, { name: "motor", trajectories: [] }] };
  assert.deepEqual(viewGroups(two).map((g) => g.key), ["", "premotor", "motor"]);
});

test("trajectory traces: a line per condition, fixed points split stable and unstable", () => {
  const g = viewGroups(RESULT)[0];
  const tr = trajectoryTraces(g, RESULT.fixed_points.stable, () => "#000", [[0.1, 0], [0, 0.1]]);
  assert.equal(tr.filter((t) => t.mode === "lines").length, 2);
  assert.deepEqual(tr[1].y, [0, 2]);
  const st = tr.find((t) => t.name.startsWith("stable"));
  const un = tr.find((t) => t.name.startsWith("unstable"));
  assert.deepEqual([st.x, un.x, st.marker.symbol, un.marker.symbol], [[0.5], [2], "star", "star-open"]);
  assert.match(tr[0].name, /target 10\.0, 0\.0 cm/);
});

test("eigenvalue traces: the unit circle, then each point's eigenvalues by stability", () => {
  const tr = eigenTraces(RESULT.fixed_points);
  assert.equal(tr[0].x.length, 121);
  assert.ok(Math.abs(Math.hypot(tr[0].x[30], tr[0].y[30]) - 1) < 1e-12);
  assert.deepEqual(tr[1].x, [0.5, 0.2]);
  assert.deepEqual(tr[2].x, [1.5, 0.1]);
  assert.match(tr[2].text[0], /\|λ\| = 1\.500/);
});

test("block ranges and their marks", () => {
  const r = blockRanges({ blocks: [{ name: "baseline", n_iterations: 3 }, { name: "curl", n_iterations: 4 }, { name: "washout", n_iterations: 2 }] });
  assert.deepEqual(r, [{ name: "baseline", first: 1, last: 3 }, { name: "curl", first: 4, last: 7 }, { name: "washout", first: 8, last: 9 }]);
  const m = blockMarks(r);
  assert.deepEqual(m.shapes.map((s) => s.x0), [3.5, 7.5]);
  assert.deepEqual(m.annotations.map((a) => [a.text, a.x]), [["baseline", 2], ["curl", 5.5], ["washout", 8.5]]);
});

test("running mean and protocol traces in display units", () => {
  assert.deepEqual(runningMean([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5]);
  const series = { "protocol/lateral_deviation": { step: [1, 2], value: [0.01, 0.03] }, "protocol/channel_force": { step: [2], value: [4] } };
  const tr = protocolTraces(series, () => "#000", 2);
  assert.equal(tr.length, 4);
  assert.deepEqual(tr[1].y.map((v) => +v.toFixed(9)), [1, 2]);
  assert.equal(tr[3].yaxis, "y2");
});

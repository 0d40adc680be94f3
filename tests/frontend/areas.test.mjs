import assert from "node:assert/strict";
import { test } from "node:test";
import { areaGraph, areaLayout, connectivityMatrix, isMultiArea } from "../../frontend/scripts/logic/areas.js";

const twoArea = {
  kind: "multi_area",
  dale: false,
  areas: [
    { name: "premotor", kind: "gru", size: 32, inputs: ["task", "vision", "proprioception"], to_muscles: false },
    { name: "motor", kind: "gru", size: 16, inputs: ["proprioception"], to_muscles: true },
  ],
  connections: [
    { source: "premotor", target: "motor", delay: 0.02, density: 1 },
    { source: "motor", target: "premotor", delay: 0, density: 0.5 },
  ],
};

test("a two-area policy: inputs, areas, projections and the muscle read-out", () => {
  const g = areaGraph(twoArea);
  assert.equal(isMultiArea(twoArea), true);
  assert.equal(isMultiArea({ kind: "gru", areas: [] }), false);
  assert.deepEqual(g.inputs.map((n) => n.name), ["task", "vision", "proprioception"]);
  assert.deepEqual(g.areas.map((a) => [a.name, a.size]), [["premotor", 32], ["motor", 16]]);
  assert.equal(g.units, 48);
  const edges = g.edges.map((e) => `${e.from}>${e.to}`);
  assert.ok(edges.includes("input:proprioception>area:motor") && !edges.includes("input:vision>area:motor"));
  assert.ok(edges.includes("area:premotor>area:motor") && edges.includes("area:motor>muscles"));
  assert.ok(!edges.includes("area:premotor>muscles"));
  assert.deepEqual(g.problems, []);
});

test("connections to unknown areas are reported, not drawn", () => {
  const g = areaGraph({ ...twoArea, connections: [{ source: "premotor", target: "spinal" }] });
  assert.equal(g.edges.filter((e) => e.kind === "area").length, 0);
  assert.match(g.problems[0], /spinal/);
});

test("the matrix: receivers as rows, senders and muscles as columns, delays in ms", () => {
  const m = connectivityMatrix(twoArea);
  assert.deepEqual(m.cols, ["task", "vision", "proprioception", "actions", "premotor", "motor", "muscles"]);
  assert.deepEqual(m.rows[0], { name: "premotor", cells: ["•", "•", "•", "", "↺", "•", ""] });
  assert.deepEqual(m.rows[1], { name: "motor", cells: ["", "", "•", "", "20 ms", "↺", "•"] });
});

test("the layout puts inputs left, muscles right, and every node inside the drawing", () => {
  const g = areaGraph(twoArea);
  const { pos, height } = areaLayout(g, 520);
  assert.ok(pos["input:task"].x < pos["area:premotor"].x && pos["area:premotor"].x < pos.muscles.x);
  for (const p of Object.values(pos)) assert.ok(p.x > 0 && p.x < 520 && p.y > 0 && p.y < height);
});

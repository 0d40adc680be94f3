import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  addMuscle,
  addPathPoint,
  duplicate,
  removeMuscle,
  removePathPoint,
  setPathPoint,
  setSkeleton,
  skeletonChoice,
  uniqueName,
} from "../../frontend/scripts/logic/effector.js";
import { bodyFrames, pathWorldPoints, referencePosture } from "../../frontend/scripts/logic/geometry.js";

const arm210 = JSON.parse(readFileSync(new URL("./fixtures/arm210.json", import.meta.url)));

test("add a muscle: same model, unique name, path to the last body", () => {
  const s = addMuscle(arm210);
  assert.equal(s.muscles.length, 11);
  const m = s.muscles[10];
  assert.equal(m.kind, "thelen");
  assert.equal(m.name, "muscle");
  assert.equal(m.geometry.points.at(-1).body, 2);
  assert.equal(addMuscle(s).muscles[11].name, "muscle 2");
  assert.equal(arm210.muscles.length, 10, "input not mutated");
});

test("a new muscle is sized to its path: l0_ce + l0_se = its length at the reference posture", () => {
  const s = addMuscle(arm210);
  const m = s.muscles[10];
  const pts = pathWorldPoints(m, bodyFrames(s.skeleton, referencePosture(s.skeleton)));
  const length = Math.hypot(pts[1][0] - pts[0][0], pts[1][1] - pts[0][1]);
  assert.ok(length > 0.2, `path ${length}`);
  assert.ok(Math.abs(m.optimal_length + m.tendon_slack_length - length) < 1e-3, JSON.stringify(m));
  // split like the effector's muscles: arm210's median fibre share of l0_ce + l0_se is ~0.6
  const share = m.optimal_length / (m.optimal_length + m.tendon_slack_length);
  assert.ok(share > 0.4 && share < 0.75, `fibre share ${share}`);
  // a relu muscle has no fibre to size
  const relu = { ...arm210, muscles: [{ ...arm210.muscles[0], kind: "relu", optimal_length: undefined }] };
  assert.equal(addMuscle(relu).muscles[1].optimal_length, undefined);
});

test("remove keeps at least one muscle", () => {
  let s = { ...arm210, muscles: arm210.muscles.slice(0, 2) };
  s = removeMuscle(s, 0);
  assert.equal(s.muscles.length, 1);
  assert.equal(removeMuscle(s, 0).muscles.length, 1);
});

test("switching to a point mass clamps bodies and keeps paths spanning two bodies", () => {
  const s = setSkeleton(arm210, "point_mass");
  assert.equal(s.skeleton.kind, "point_mass");
  for (const m of s.muscles) {
    const bodies = m.geometry.points.map((p) => p.body);
    assert.ok(bodies.every((b) => b <= 1));
    assert.ok(new Set(bodies).size > 1);
  }
});

test("three-link arm choice and polynomial refit", () => {
  const poly = {
    ...arm210,
    muscles: [{ ...arm210.muscles[0], geometry: { kind: "polynomial", a0: 0.1, a1: [1, 2], a2: [0, 0], a3: [0, 0] } }],
  };
  const s = setSkeleton(poly, "three_link_arm");
  assert.equal(skeletonChoice(s.skeleton), "three_link_arm");
  assert.equal(s.skeleton.links.length, 3);
  assert.deepEqual(s.muscles[0].geometry.a1, [1, 2, 0]);
});

test("path point add, set and remove", () => {
  let s = addPathPoint(arm210, 0, 0);
  assert.equal(s.muscles[0].geometry.points.length, 3);
  s = setPathPoint(s, 0, 1, { body: 1, x: 0.5, y: 0.5 });
  assert.deepEqual(s.muscles[0].geometry.points[1], { body: 1, x: 0.5, y: 0.5 });
  s = removePathPoint(s, 0, 1);
  s = removePathPoint(s, 0, 1);
  assert.equal(s.muscles[0].geometry.points.length, 2);
});

test("duplicate and unique names", () => {
  const d = duplicate(arm210);
  assert.equal(d.name, "arm210 copy");
  d.muscles[0].name = "x";
  assert.notEqual(arm210.muscles[0].name, "x");
  assert.equal(uniqueName(arm210, "biceps"), "biceps 2");
});

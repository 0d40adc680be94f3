import assert from "node:assert/strict";
import { test } from "node:test";
import { draftApplies, fingertip, previewBox, runLabels, taskLayout, workspace } from "../../frontend/scripts/logic/task.js";

const close = (a, b, tol = 1e-9) => assert.ok(Math.abs(a - b) < tol, `${a} != ${b}`);
const pm = { skeleton: { kind: "point_mass" } };
const arm = { skeleton: { kind: "two_link_arm", L1: 0.3, L2: 0.2, pos_lower_bound: [0, 0], pos_upper_bound: [1, 2] } };

test("centre-out targets surround the start", () => {
  const l = taskLayout({ kind: "centre_out", n_targets: 4, radius: 0.1, centre_joint: null }, pm);
  assert.deepEqual(l.start, [0, 0]);
  assert.equal(l.targets.length, 4);
  close(l.targets[0][0], 0.1);
  close(l.targets[1][1], 0.1);
});

test("centre joint is used when it fits the skeleton", () => {
  const l = taskLayout({ kind: "centre_out", n_targets: 1, radius: 0.05, centre_joint: [0, 0] }, arm);
  close(l.start[0], 0.5);
  close(l.start[1], 0);
});

test("other tasks: no targets, tracking ring", () => {
  assert.equal(taskLayout({ kind: "random_reach" }, arm).targets.length, 0);
  assert.equal(taskLayout({ kind: "tracking", amplitude: 0.07 }, arm).ring.radius, 0.07);
});

test("workspace covers the joint grid", () => {
  const w = workspace(arm.skeleton, 5);
  assert.equal(w.length, 25);
  const tip = fingertip(arm.skeleton, [0, 0]);
  assert.ok(w.some((p) => Math.abs(p[0] - tip[0]) < 1e-12 && Math.abs(p[1] - tip[1]) < 1e-12));
});

test("previewBox zooms to the targets with a margin, null without targets", () => {
  const l = taskLayout({ kind: "centre_out", n_targets: 8, radius: 0.1, centre_joint: null }, pm);
  const [[x0, y0], [x1, y1]] = previewBox(l);
  close(x0, -0.17);
  close(x1, 0.17);
  close(y0, -0.17);
  close(y1, 0.17);
  for (const [x, y] of l.targets) assert.ok(x > x0 && x < x1 && y > y0 && y < y1);
  assert.equal(previewBox(taskLayout({ kind: "random_reach" }, pm)), null);
  const track = previewBox(taskLayout({ kind: "tracking", amplitude: 0.05 }, pm));
  close(track[1][0] - track[0][0], 0.1 + 2 * 0.35 * 0.1);
});

const arm26Preset = {
  name: "arm26_centre_out",
  tags: ["arm26", "centre_out"],
  effector: { name: "arm26", skeleton: { kind: "two_link_arm" } },
  task: { kind: "centre_out" },
};

test("runs are named and tagged after the effector and task they use", () => {
  assert.deepEqual(runLabels(arm26Preset, arm26Preset), { name: "arm26_centre_out", tags: ["arm26", "centre_out"] });
  const arm210 = { ...arm26Preset, effector: { name: "arm210", skeleton: { kind: "two_link_arm" } } };
  assert.deepEqual(runLabels(arm26Preset, arm210), { name: "arm210 centre_out", tags: ["arm210", "centre_out"] });
  const tutorial = { name: "tutorial_point_mass", tags: ["tutorial", "point_mass"], effector: { name: "point_mass_24", skeleton: { kind: "point_mass" } }, task: { kind: "random_reach" } };
  const other = { ...tutorial, task: { kind: "centre_out" } };
  assert.deepEqual(runLabels(tutorial, other), { name: "point_mass_24 centre_out", tags: ["tutorial", "point_mass_24", "centre_out"] });
});

test("a draft is restored unless the route names another preset", () => {
  const draft = { preset: "tiny_point_mass", effector: "run", task: null, spec: { name: "x" } };
  const names = ["tiny_point_mass", "arm26_centre_out"];
  assert.equal(draftApplies(draft, {}, names), true);
  assert.equal(draftApplies(draft, { preset: "tiny_point_mass", effector: "preset:arm210" }, names), true);
  assert.equal(draftApplies(draft, { preset: "arm26_centre_out" }, names), false);
  assert.equal(draftApplies(null, {}, names), false);
  assert.equal(draftApplies({ ...draft, preset: "gone" }, {}, names), false);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  bodyFrames,
  bodyToWorld,
  bounds,
  dragPoint,
  jointPositions,
  lengthLabel,
  nBodies,
  referencePosture,
  scaleBar,
  viewTransform,
  worldToBody,
} from "../../frontend/scripts/logic/geometry.js";

const close = (a, b, tol = 1e-9) => assert.ok(Math.abs(a - b) < tol, `${a} != ${b}`);
const arm = { kind: "two_link_arm", L1: 0.3, L2: 0.2 };

test("two-link forward kinematics", () => {
  const pts = jointPositions(arm, [Math.PI / 2, -Math.PI / 2]);
  close(pts[0][0], 0);
  close(pts[1][0], 0);
  close(pts[1][1], 0.3);
  close(pts[2][0], 0.2);
  close(pts[2][1], 0.3);
});

test("planar arm has one more body than links", () => {
  const sk = { kind: "planar_arm", links: [{ length: 0.3 }, { length: 0.25 }, { length: 0.1 }] };
  assert.equal(nBodies(sk), 4);
  const pts = jointPositions(sk, [0, 0, 0]);
  close(pts[3][0], 0.65);
});

test("point mass frames", () => {
  const sk = { kind: "point_mass" };
  const f = bodyFrames(sk, [0.1, -0.2]);
  assert.equal(f.length, 2);
  assert.deepEqual(bodyToWorld(f[1], [0, 0]), [0.1, -0.2]);
  assert.deepEqual(referencePosture(sk), [0, 0]);
});

test("body <-> world round trip", () => {
  const frame = { origin: [0.3, -0.1], angle: 1.1 };
  const w = bodyToWorld(frame, [0.05, 0.02]);
  const b = worldToBody(frame, w);
  close(b[0], 0.05);
  close(b[1], 0.02);
});

test("reference posture is mid-range", () => {
  const q = referencePosture({ kind: "two_link_arm", pos_lower_bound: [0, 0], pos_upper_bound: [2, 3] });
  assert.deepEqual(q, [1, 1.5]);
});

test("view transform keeps aspect and inverts", () => {
  const v = viewTransform([[-1, -1], [1, 1]], 400, 200);
  close(v.scale, 100);
  assert.deepEqual(v.toScreen([0, 0]), [200, 100]);
  assert.deepEqual(v.toScreen([1, 1]), [300, 0]);
  const w = v.toWorld(v.toScreen([0.3, -0.7]));
  close(w[0], 0.3);
  close(w[1], -0.7);
});

test("bounds with margin", () => {
  const b = bounds([[0, 0], [1, 2]], 0.1);
  close(b[0][0], -0.2);
  close(b[1][1], 2.2);
});

test("dragging a point keeps it on its body", () => {
  const frames = bodyFrames(arm, [Math.PI / 2, 0]);
  const muscle = { geometry: { kind: "path", points: [{ body: 0, x: 0, y: 0 }, { body: 1, x: 0.1, y: 0 }] } };
  const p = dragPoint(muscle, 1, [-0.02, 0.15], frames);
  assert.equal(p.body, 1);
  close(p.x, 0.15, 1e-4);
  close(p.y, 0.02, 1e-4);
});

test("scaleBar picks a round length near the wanted size", () => {
  const bar = scaleBar(800, 80); // 800 px per metre: 10 cm is 80 px
  assert.equal(bar.metres, 0.1);
  assert.equal(bar.label, "10 cm");
  assert.equal(bar.px, 80);
  assert.equal(scaleBar(85, 80).label, "1 m");
  assert.equal(scaleBar(400, 80).label, "20 cm");
  assert.equal(scaleBar(20000, 80).label, "5 mm");
  assert.equal(lengthLabel(2), "2 m");
  assert.equal(lengthLabel(0.05), "5 cm");
});

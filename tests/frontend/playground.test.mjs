import assert from "node:assert/strict";
import { test } from "node:test";
import {
  explainEffector,
  extendTrail,
  inQuads,
  jointNames,
  loadLabel,
  momentArmLines,
  parseShare,
  perturbationSpecs,
  shareParams,
  signedArea,
  workspaceQuads,
} from "../../frontend/scripts/logic/playground.js";
import { formatHash, parseHash } from "../../frontend/scripts/logic/urlstate.js";

const close = (a, b, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

test("the trail keeps the newest points and skips repeats", () => {
  let t = [];
  for (let i = 0; i < 10; i++) t = extendTrail(t, [i * 0.01, 0], { max: 4 });
  assert.deepEqual(t, [[0.06, 0], [0.07, 0], [0.08, 0], [0.09, 0]]);
  assert.equal(extendTrail(t, [0.09, 0.00001]), t); // closer than 0.1 mm: unchanged
  assert.equal(extendTrail(t, [NaN, 0]), t);
  assert.equal(extendTrail([], [1, 2]).length, 1);
});

test("workspace quads are all counter-clockwise and cover the grid's image", () => {
  // a 2 x 2 lattice over the unit square, its second column reversed so some cells are clockwise
  const grid = [
    [[0, 0], [0, 1], [0, 2]],
    [[1, 0], [1, 1], [1, 2]],
    [[2, 0], [2, 1], [2, 2]],
  ];
  const quads = workspaceQuads([grid, grid.map((row) => row.slice().reverse())]);
  assert.equal(quads.length, 8);
  for (const q of quads) assert.ok(signedArea(q) > 0);
  close(quads.reduce((s, q) => s + signedArea(q), 0), 8); // twice the 2 x 2 square
  assert.ok(inQuads(quads, [1.5, 0.5]) && inQuads(quads, [0.1, 1.9]));
  assert.ok(!inQuads(quads, [2.1, 1]) && !inQuads(quads, [-0.1, 1]));
  assert.deepEqual(workspaceQuads([[[[0, 0]], [[1, 0]]]]), []); // one column: an arc, no area
});

test("moment-arm lines cross the right joints on the side they pull", () => {
  // a straight arm along +x: shoulder (0, 0), elbow (0.3, 0), hand (0.6, 0)
  const joints = [[0, 0], [0.3, 0], [0.6, 0]];
  const r = [
    [-0.03, 0.03, 0.0, -0.02], // shoulder: flexor, extensor, none, flexor
    [0.0, 0.0, -0.025, -0.01], // elbow: -, -, flexor, flexor
  ];
  const [flex, ext, elbow, both] = momentArmLines(joints, r);
  // a shoulder flexor: from the trunk (behind the shoulder, -x) on the left (+y) side, 3 cm off, to mid upper arm
  assert.equal(flex.length, 3);
  close(flex[0][0], -0.105);
  close(flex[0][1], 0.03);
  close(flex[1][1], 0.03);
  close(flex[2][0], 0.15);
  close(flex[2][1], 0.03);
  assert.ok(ext.every(([, y]) => y < 0)); // the extensor on the other side
  close(ext[1][1], -0.03);
  // an elbow flexor: starts on the upper arm, ends mid forearm
  close(elbow[0][0], 0.3 - 0.105);
  close(elbow[elbow.length - 1][0], 0.45);
  close(elbow[1][1], 0.025);
  // a two-joint muscle passes both joints: trunk, shoulder, elbow, forearm
  assert.equal(both.length, 4);
  close(both[1][1], 0.02);
  close(both[2][1], 0.01);
  close(both[3][0], 0.45);
  assert.equal(momentArmLines(joints, [[0.0], [0.0]])[0], null);
});

test("moment-arm lines follow a bent elbow: the flexor inside the bend", () => {
  const joints = [[0, 0], [0.3, 0], [0.3, 0.3]]; // forearm bent 90 deg counter-clockwise
  const [line] = momentArmLines(joints, [[0.0], [-0.02]]);
  // inside the bend: the bisector of the left normals (0, 1) and (-1, 0)
  close(line[1][0], 0.3 - 0.02 / Math.SQRT2);
  close(line[1][1], 0.02 / Math.SQRT2);
  close(line[2][0], 0.28);
  close(line[2][1], 0.15);
});

test("point-mass stand-in lines point along the pull", () => {
  const [l] = momentArmLines([[0.1, 0.2]], [[-0.6], [-0.8]], { pointMass: true });
  close(l[1][0], 0.1 + 0.15 * 0.6);
  close(l[1][1], 0.2 + 0.15 * 0.8);
});

test("explanations name the effector's own joints and muscles", () => {
  const arm = {
    name: "arm26",
    skeleton: { kind: "two_link_arm" },
    muscles: ["pectoralis", "deltoid", "biceps"].map((name) => ({ name, geometry: { kind: "polynomial" } })),
  };
  const e = explainEffector(arm, [
    [-0.03, 0.03, -0.03],
    [0.0, 0.0, -0.03],
  ]);
  assert.equal(e.kind, "arm");
  assert.match(e.intro, /shoulder and elbow/);
  assert.equal(e.jointsText, "shoulder and elbow");
  assert.deepEqual(
    e.muscles.map((m) => m.text),
    ["flexes the shoulder", "extends the shoulder", "flexes the shoulder and flexes the elbow (a two-joint muscle)"]
  );
  assert.match(e.action, /at the shoulder, pectoralis and biceps against deltoid/);
  assert.match(e.lines, /stand-ins.*polynomial moment arms/);

  const paths = { ...arm, name: "arm210", muscles: arm.muscles.map((m) => ({ ...m, geometry: { kind: "path" } })) };
  assert.match(explainEffector(paths, [[-0.03, 0.03, -0.03], [0, 0, -0.03]]).lines, /paths through their attachment points/);

  const mass = {
    name: "point_mass_24",
    skeleton: { kind: "point_mass", mass: 1 },
    muscles: ["UpperRight", "LowerLeft"].map((name) => ({ name, geometry: { kind: "path" } })),
  };
  const m = explainEffector(mass, [[-0.7071, 0.7071], [-0.7071, 0.7071]]);
  assert.equal(m.kind, "point_mass");
  assert.match(m.intro, /point mass of 1 kg/);
  assert.deepEqual(m.muscles.map((x) => x.text), ["pulls the mass towards the upper right", "pulls the mass towards the lower left"]);
  assert.doesNotMatch(JSON.stringify(m), /shoulder|elbow/);
  assert.deepEqual(jointNames({ kind: "planar_arm", links: [{}, {}, {}, {}] }), ["shoulder", "elbow", "wrist", "joint 4"]);
});

test("load toggles become the core's perturbation specs", () => {
  assert.deepEqual(perturbationSpecs({}), []);
  assert.deepEqual(perturbationSpecs({ curl: 10, curlDir: "ccw", load: 5, loadAngle: 90 }), [
    { kind: "curl_field", gain: 10, direction: "ccw" },
    { kind: "endpoint_load", magnitude: 5, angle: 90 },
  ]);
  assert.equal(loadLabel({ curl: 10, load: 5, loadAngle: 90 }), "curl field 10 N s/m clockwise · load 5 N at 90°");
  assert.equal(loadLabel({}), "");
});

test("a shared link round-trips values, locked and hidden controls", () => {
  const state = { source: "preset:arm26", curl: 12, curlDir: "ccw", load: 3, loadAngle: -90, trail: false, workspace: true, paused: true, excitation: [0, 0.5, 0.123, 0, 0, 0] };
  const params = shareParams(state, { lock: new Set(["load", "curl"]), hide: ["share", "source", "bogus"] });
  assert.deepEqual(params, {
    effector: "preset:arm26",
    curl: "12",
    curl_dir: "ccw",
    load: "3",
    load_angle: "-90",
    trail: "0",
    paused: "1",
    ex: "0,0.5,0.12,0,0,0",
    lock: "curl,load",
    hide: "source,share",
  });
  const hash = formatHash("playground", params);
  const back = parseShare(parseHash(hash).params);
  assert.deepEqual({ ...back, locked: [...back.locked], hidden: [...back.hidden] }, {
    curl: 12,
    curlDir: "ccw",
    load: 3,
    loadAngle: -90,
    trail: false,
    workspace: true,
    paused: true,
    excitation: [0, 0.5, 0.12, 0, 0, 0],
    locked: ["curl", "load"],
    hidden: ["source", "share"],
  });
  assert.deepEqual(shareParams({ source: "run:7" }), { run: "7" });
});

test("bad link values fall back to defaults or the limits", () => {
  const p = parseShare({ curl: "1e9", load: "abc", load_angle: "", ex: "2,-1,x", trail: "off", lock: "nope,step" });
  assert.equal(p.curl, 200);
  assert.equal(p.load, 0);
  assert.equal(p.loadAngle, 0);
  assert.deepEqual(p.excitation, [1, 0, 0]);
  assert.equal(p.trail, false);
  assert.deepEqual([...p.locked], ["step"]);
  assert.equal(parseShare({}).excitation, null);
});

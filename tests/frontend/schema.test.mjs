import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  assignErrors,
  boundsText,
  convertVariant,
  defaultValue,
  displayNumber,
  displayNumberList,
  formModel,
  parseNumberList,
  parseNumberListKeeping,
  setAt,
  variantOf,
} from "../../frontend/scripts/logic/schema.js";

const load = (name) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
const effSchema = load("effector_schema.json");
const runSchema = load("run_schema.json");
const arm210 = load("arm210.json");

test("effector schema: skeleton and muscle unions with discriminator", () => {
  const m = formModel(effSchema);
  assert.equal(m.type, "object");
  const sk = m.fields.find((f) => f.key === "skeleton").node;
  assert.equal(sk.type, "union");
  assert.equal(sk.discriminator, "kind");
  assert.deepEqual(sk.options.sort(), ["planar_arm", "point_mass", "two_link_arm"]);
  const muscles = m.fields.find((f) => f.key === "muscles").node;
  assert.equal(muscles.type, "array");
  assert.equal(muscles.items.type, "union");
  assert.ok(muscles.items.options.includes("thelen"));
  const integ = m.fields.find((f) => f.key === "integration").node;
  assert.equal(integ.type, "enum");
  assert.deepEqual(integ.options, ["euler", "rk4", "rk4_motornet"]);
  const dt = m.fields.find((f) => f.key === "dt").node;
  assert.equal(dt.exclusiveMin, 0);
  assert.equal(dt.max, 0.1);
  assert.equal(boundsText(dt), "> 0, ≤ 0.1");
  assert.equal(m.fields.find((f) => f.key === "motornet_compat").node.type, "boolean");
});

test("number arrays and descriptions", () => {
  const m = formModel(effSchema);
  const two = m.fields.find((f) => f.key === "skeleton").node.variants.two_link_arm;
  const lb = two.fields.find((f) => f.key === "pos_lower_bound").node;
  assert.equal(lb.type, "numberArray");
  assert.equal(lb.description, "[rad]");
  const L1 = two.fields.find((f) => f.key === "L1").node;
  assert.match(L1.description, /upper arm length/);
});

test("run schema: nullable numbers, scalar-or-list noise, tags, perturbation union", () => {
  const m = formModel(runSchema);
  const task = m.fields.find((f) => f.key === "task").node;
  assert.equal(task.type, "union");
  const co = task.variants.centre_out;
  assert.equal(co.fields.find((f) => f.key === "action_noise").node.type, "numberOrArray");
  const cj = co.fields.find((f) => f.key === "centre_joint").node;
  assert.equal(cj.type, "numberArray");
  assert.equal(cj.nullable, true);
  const pert = co.fields.find((f) => f.key === "perturbations").node;
  assert.equal(pert.items.type, "union");
  assert.ok(pert.items.options.includes("curl_field"));
  assert.equal(m.fields.find((f) => f.key === "tags").node.type, "stringArray");
  const train = m.fields.find((f) => f.key === "train").node;
  const gc = train.fields.find((f) => f.key === "grad_clip").node;
  assert.equal(gc.type, "number");
  assert.equal(gc.nullable, true);
});

test("defaults: schema defaults and plausible required values", () => {
  const m = formModel(runSchema);
  const d = defaultValue(m);
  assert.equal(d.name, "run");
  assert.equal(d.train.n_iterations, 1000);
  assert.equal(d.policy.kind, "gru");
  const task = m.fields.find((f) => f.key === "task").node;
  const co = defaultValue(task.variants.centre_out);
  assert.equal(co.kind, "centre_out");
  assert.equal(co.n_targets, 8);
  assert.equal(co.centre_joint, null);
});

test("convertVariant keeps shared values and fills the rest", () => {
  const m = formModel(effSchema);
  const muscle = m.fields.find((f) => f.key === "muscles").node.items;
  const src = arm210.muscles[0];
  assert.equal(variantOf(muscle, src), "thelen");
  const rh = convertVariant(muscle, src, "rigid_hill");
  assert.equal(rh.kind, "rigid_hill");
  assert.equal(rh.max_iso_force, src.max_iso_force);
  assert.equal(rh.optimal_length, src.optimal_length);
  assert.deepEqual(rh.geometry, src.geometry);
  assert.equal(rh.fl_width, 0.66);
  assert.equal(rh.af, undefined);
  const relu = convertVariant(muscle, src, "relu");
  assert.equal(relu.optimal_length, undefined);
  assert.equal(relu.min_activation, 0);
  const back = convertVariant(muscle, relu, "mujoco");
  assert.ok(back.optimal_length > 0);
});

test("set by dotted path", () => {
  const s = setAt(arm210, "muscles.2.geometry.points.0.x", 0.5);
  assert.equal(s.muscles[2].geometry.points[0].x, 0.5);
  assert.equal(arm210.muscles[2].geometry.points[0].x, 0.14);
  assert.deepEqual(setAt(undefined, "a.0", 1), { a: [1] });
});

test("errors land on the nearest rendered field", () => {
  const errs = [
    { loc: "muscles.2.optimal_length", msg: "must be > 0" },
    { loc: "skeleton.pos_upper_bound.1", msg: "too small" },
    { loc: ["dt"], msg: "bad dt" },
    { loc: "mystery", msg: "?" },
  ];
  const out = assignErrors(errs, ["muscles.2.optimal_length", "skeleton.pos_upper_bound", "dt", "muscles.2"]);
  assert.equal(out["muscles.2.optimal_length"][0].msg, "must be > 0");
  assert.equal(out["skeleton.pos_upper_bound"][0].msg, "too small");
  assert.equal(out.dt[0].loc, "dt");
  assert.equal(out[""][0].msg, "?");
});

test("parseNumberList", () => {
  assert.deepEqual(parseNumberList("1, 2.5 -3"), { values: [1, 2.5, -3] });
  assert.ok(parseNumberList("1, x").error);
  assert.deepEqual(parseNumberList(""), { values: [] });
});

test("normalizeLoc drops pydantic union tags", async () => {
  const { normalizeLoc } = await import("../../frontend/scripts/logic/schema.js");
  const eff = formModel(effSchema);
  assert.equal(normalizeLoc(eff, "skeleton.two_link_arm.L1"), "skeleton.L1");
  assert.equal(normalizeLoc(eff, "muscles.0.rigid_hill.optimal_length"), "muscles.0.optimal_length");
  assert.equal(normalizeLoc(eff, "muscles.2.thelen.geometry.path.points.1.x"), "muscles.2.geometry.points.1.x");
  assert.equal(normalizeLoc(eff, "muscles.2.optimal_length"), "muscles.2.optimal_length");
  assert.equal(normalizeLoc(eff, "skeleton.pos_upper_bound.1"), "skeleton.pos_upper_bound.1");
  assert.equal(normalizeLoc(eff, ""), "");
  const run = formModel(runSchema);
  assert.equal(normalizeLoc(run, "task.centre_out.action_noise.list[float].1"), "task.action_noise.1");
  assert.equal(normalizeLoc(run, "task.centre_out.action_noise.float"), "task.action_noise");
  assert.equal(normalizeLoc(run, "task.vision_delay"), "task.vision_delay");
  assert.equal(normalizeLoc(run, "effector.skeleton.point_mass.mass"), "effector.skeleton.mass");
});

test("displayNumber shows 6 significant digits without float noise", () => {
  assert.equal(displayNumber(2.443460952792061), "2.44346");
  assert.equal(displayNumber(0.1 + 0.2), "0.3");
  assert.equal(displayNumber(1000), "1000");
  assert.equal(displayNumber(-1000), "-1000");
  assert.equal(displayNumber(0.013193), "0.013193");
  assert.equal(displayNumber(1e-7), "1e-7");
  assert.equal(displayNumber(null), "");
  assert.equal(displayNumber(undefined), "");
  assert.equal(displayNumberList([2.443460952792061, 2.792526803190927]), "2.44346, 2.79253");
});

test("parseNumberListKeeping keeps the exact values of entries left as displayed", () => {
  const original = [2.443460952792061, 2.792526803190927];
  assert.deepEqual(parseNumberListKeeping("2.44346, 2.79253", original).values, original);
  assert.deepEqual(parseNumberListKeeping("2.5, 2.79253", original).values, [2.5, 2.792526803190927]);
  assert.deepEqual(parseNumberListKeeping("2.44346, 2.79253, 1", original).values, [...original, 1]);
  assert.ok(parseNumberListKeeping("2.44346, x", original).error);
  assert.deepEqual(parseNumberListKeeping("0.3", [0.1 + 0.2]).values, [0.1 + 0.2]);
});

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  applyStudyMessage,
  changedParams,
  claimRows,
  intervalText,
  pText,
  elapsedSeconds,
  expectedText,
  formatValue,
  isTerminal,
  paramErrors,
  phaseFromLog,
  remainingText,
  runsOf,
  studyProgress,
  studyTotalSteps,
  summaryRows,
  tableColumns,
} from "../../frontend/scripts/logic/studies.js";

test("changedParams keeps only values that differ from the defaults", () => {
  const defaults = { n_points: 41, effectors: ["arm26", "arm210"], seed: 0 };
  assert.deepEqual(changedParams({ n_points: 41, effectors: ["arm26", "arm210"], seed: 0 }, defaults), {});
  assert.deepEqual(changedParams({ n_points: 21, effectors: ["arm26"], seed: 0 }, defaults), { n_points: 21, effectors: ["arm26"] });
});

test("paramErrors makes locations relative to the parameters", () => {
  const detail = [
    { loc: "params.n_points", msg: "too small", input: 2 },
    { loc: "params.effectors.0", msg: "bad" },
    { loc: "params", msg: "whole" },
    { loc: "name", msg: "too long" },
  ];
  assert.deepEqual(
    paramErrors(detail).map((e) => e.loc),
    ["n_points", "effectors.0", "", ""]
  );
  assert.deepEqual(paramErrors("study 'x' not found"), []);
});

test("expectedText and elapsedSeconds", () => {
  assert.equal(expectedText(2), "~2 s");
  assert.equal(expectedText(300), "~5 min");
  const run = { started_at: "2026-01-01T00:00:00Z", finished_at: "2026-01-01T00:00:04.5Z" };
  assert.equal(elapsedSeconds(run), 4.5);
  assert.equal(elapsedSeconds({ started_at: "2026-01-01T00:00:00Z" }, Date.parse("2026-01-01T00:00:10Z")), 10);
  assert.equal(elapsedSeconds({}), 0);
});

test("studyProgress follows time for running studies, capped below 1", () => {
  assert.deepEqual(studyProgress({ status: "queued" }, 2, 0).fraction, 0);
  const running = studyProgress({ status: "running", step: 12 }, 100, 50);
  assert.equal(running.fraction, 0.5);
  assert.match(running.text, /12 training steps/);
  assert.equal(studyProgress({ status: "running" }, 10, 60).fraction, 0.95);
  assert.equal(studyProgress({ status: "finished" }, 10, 3).fraction, 1);
  assert.match(studyProgress({ status: "failed" }, 10, 3).text, /failed/);
  assert.ok(isTerminal("cancelled") && !isTerminal("running"));
});

test("tableColumns, formatValue and summaryRows", () => {
  assert.deepEqual(tableColumns([{ a: 1, b: 2 }, { b: 3, c: 4 }]), ["a", "b", "c"]);
  assert.equal(formatValue(0.123456), "0.1235");
  assert.equal(formatValue(3), "3");
  assert.equal(formatValue(1e-6), "1.00e-6");
  assert.equal(formatValue(null), "—");
  assert.equal(formatValue(true), "yes");
  assert.equal(formatValue([1.23456, 2]), "1.235, 2");
  assert.equal(formatValue(new Array(20).fill(0)), "[20 values]");
  assert.deepEqual(summaryRows({ arm26: { roles: { biceps: "flexor" }, p: 0.01 }, n: 3 }), [
    { key: "arm26 · roles · biceps", value: "flexor" },
    { key: "arm26 · p", value: 0.01 },
    { key: "n", value: 3 },
  ]);
});

test("runsOf filters one study's runs, newest first", () => {
  const runs = [
    { id: 1, study: "a" },
    { id: 3, study: "a" },
    { id: 2, study: "b" },
  ];
  assert.deepEqual(runsOf(runs, "a").map((r) => r.id), [3, 1]);
});

test("a list of string choices becomes an enumArray (checkboxes) in generated forms", async () => {
  const { defaultValue, formModel } = await import("../../frontend/scripts/logic/schema.js");
  const schema = {
    type: "object",
    properties: {
      models: { type: "array", items: { enum: ["relu", "thelen"], type: "string" }, default: ["relu", "thelen"], minItems: 1 },
      picks: { type: "array", items: { enum: ["a", "b"] }, minItems: 1 },
      sizes: { type: "array", items: { enum: [1, 2] } },
    },
  };
  const model = formModel(schema);
  const node = (k) => model.fields.find((f) => f.key === k).node;
  assert.equal(node("models").type, "enumArray");
  assert.deepEqual(node("models").options, ["relu", "thelen"]);
  assert.deepEqual(defaultValue(node("models")), ["relu", "thelen"]);
  assert.deepEqual(defaultValue(node("picks")), ["a"]);
  assert.equal(node("sizes").type, "array");
});

test("studyTotalSteps: iterations per network plus adaptation, null for studies that do not train", () => {
  const curl = { trains: true, defaults: { iterations: 400, adapt_iterations: 200, effector: "arm26" } };
  assert.equal(studyTotalSteps(curl, {}), 600);
  assert.equal(studyTotalSteps(curl, { iterations: 30, adapt_iterations: 20 }), 50);
  const pmd = { trains: true, defaults: { iterations: 1000, effectors: ["point_mass_24", "arm26"] } };
  assert.equal(studyTotalSteps(pmd, {}), 2000);
  assert.equal(studyTotalSteps(pmd, { effectors: ["arm26"] }), 1000);
  assert.equal(studyTotalSteps({ trains: true, defaults: { iterations: 1000 } }, null), 1000);
  assert.equal(studyTotalSteps({ trains: false, defaults: { n_points: 41 } }, {}), null);
  assert.equal(studyTotalSteps(null, {}), null);
});

test("phaseFromLog and applyStudyMessage follow the streamed step, loss, phase and error", () => {
  assert.equal(phaseFromLog("[baseline] training 'curl_baseline' from step 0 to 30 on cpu"), "baseline");
  assert.equal(phaseFromLog("adaptation: training curl_adaptation to step 10"), "adaptation");
  assert.equal(phaseFromLog("study centre_out_curl_field started"), null);
  let live = applyStudyMessage({}, { type: "metric", step: 3, values: { loss: 0.14, grad_norm: 0.2 } }, 1000);
  assert.deepEqual(live, { step: 3, loss: 0.14, since: { step: 3, at: 1000 } });
  live = applyStudyMessage(live, { type: "metric", step: 2, values: { lr: 0.001 } }, 2000);
  assert.deepEqual(live, { step: 3, loss: 0.14, since: { step: 3, at: 1000 } });
  live = applyStudyMessage(live, { type: "log", message: "[point_mass_24] training 'pmd' from step 0 to 10 on cpu" });
  assert.equal(live.phase, "point_mass_24");
  live = applyStudyMessage(live, { type: "snapshot", step: 3, data: { mean_endpoint_error: 0.05 } });
  assert.equal(live.error, 0.05);
  assert.equal(applyStudyMessage(live, { type: "status", status: "running" }), live);
});

test("studyProgress of a training study follows its streamed steps", () => {
  const run = { status: "running", step: 0 };
  // 100 steps streamed in 30 s: 450 left take about 2 min.
  const live = { step: 150, loss: 0.0532, phase: "baseline", since: { step: 50, at: 10_000 } };
  const p = studyProgress(run, 800, 40, live, 600, 40_000);
  assert.equal(p.fraction, 0.25);
  assert.match(p.text, /^baseline · step 150 of 600 · loss 0\.0532 · 40 s · about 2 min left$/);
  // Too few streamed steps to tell the rate: no time left shown.
  assert.doesNotMatch(studyProgress(run, 800, 5, { step: 3, since: { step: 1, at: 0 } }, 600, 4000).text, /left/);
  // Before the first step: time against the expected duration, with the phase when known.
  const early = studyProgress(run, 800, 2, { phase: "baseline" }, 600);
  assert.equal(early.fraction, 2 / 800);
  assert.match(early.text, /^baseline · 2 s \(the defaults take ~13 min\)$/);
  assert.equal(studyProgress(run, 800, 50, { step: 600 }, 600).fraction, 0.99);
  assert.equal(remainingText(30), "about 30 s left");
  assert.equal(remainingText(600), "about 10 min left");
});

test("claimRows shows each claim's mean, 95% interval, n, test, p and verdicts", () => {
  const summary = {
    seeds: 8,
    claims: [
      { claim: "the field pushes right", measure: "field - baseline", unit: "cm", n: 8, mean: -3.214, low: -4.02, high: -2.4, test: "paired t-test", p: 0.00012, holds: true, expected: true, replicates: true },
      { claim: "arm more bimodal", measure: "axial R", unit: "", n: 8, mean: 0.05, low: -0.01, high: 0.11, test: "permutation", p: 0.085, holds: false, expected: true, replicates: false },
      { claim: "moves along the load", measure: "angle", unit: "deg", n: 2, mean: 14.5, low: null, high: null, test: "", p: null, holds: null, expected: null, replicates: null },
    ],
  };
  const rows = claimRows(summary);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0], {
    claim: "the field pushes right",
    measure: "field - baseline",
    estimate: "−3.21 cm [−4.02, −2.4]",
    n: 8,
    test: "paired t-test",
    p: "p < 0.001",
    verdict: "holds",
    replication: "replicates",
  });
  assert.equal(rows[1].p, "p = 0.085");
  assert.equal(rows[1].verdict, "does not hold");
  assert.equal(rows[1].replication, "does not replicate");
  assert.equal(rows[2].estimate, "14.5 deg");
  assert.equal(rows[2].verdict, "—");
  assert.equal(rows[2].test, "—");
  assert.deepEqual(claimRows({ a: 1 }), []);
  // the claims list is not flattened into the key numbers
  assert.deepEqual(summaryRows(summary).map((r) => r.key), ["seeds"]);
  const est = summaryRows({ disp: { "4 N": { n: 8, mean: 2.19, sd: 0.1, low: 2.1, high: 2.3 } } });
  assert.deepEqual(est, [{ key: "disp · 4 N", value: "2.19 [2.1, 2.3] (n = 8)" }]);
  assert.equal(intervalText(NaN), "—");
  assert.equal(pText(0.5), "p = 0.5");
  assert.equal(pText(null), "—");
});

// Studies page logic: parameter overrides, error locations, progress, summary and table formatting.
// Pure functions, no DOM.

import { isTerminal } from "./status.js";

export { isTerminal };

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The parameters that differ from the defaults (the body of POST /api/studies/{name}/runs). */
export function changedParams(values, defaults) {
  const out = {};
  for (const [k, v] of Object.entries(values ?? {})) {
    if (!same(v, defaults?.[k])) out[k] = v;
  }
  return out;
}

/**
 * Errors of a 422 answer to POST /api/studies/{name}/runs as [{loc, msg}] with locs relative to the
 * parameters ("params.n_points" -> "n_points"); errors outside the parameters keep loc "".
 */
export function paramErrors(detail) {
  if (!Array.isArray(detail)) return [];
  return detail
    .filter((e) => e && e.msg !== undefined)
    .map((e) => {
      const loc = Array.isArray(e.loc) ? e.loc.join(".") : String(e.loc ?? "");
      if (loc === "params") return { ...e, loc: "" };
      return { ...e, loc: loc.startsWith("params.") ? loc.slice("params.".length) : "" };
    });
}

/** "~2 s", "~5 min" for a catalogue's expected_seconds. */
export function expectedText(seconds) {
  if (!Number.isFinite(seconds)) return "";
  if (seconds < 90) return `~${Math.round(seconds)} s`;
  return `~${Math.round(seconds / 60)} min`;
}

/** Seconds a run has been running (from started_at to finished_at or `now`, both ms since epoch). */
export function elapsedSeconds(run, now = Date.now()) {
  if (!run?.started_at) return 0;
  const start = Date.parse(run.started_at);
  const end = run.finished_at ? Date.parse(run.finished_at) : now;
  return Number.isFinite(start) && Number.isFinite(end) ? Math.max(0, (end - start) / 1000) : 0;
}

/**
 * Gradient steps a training study takes with these parameters (its defaults overridden by `params`),
 * or null when that cannot be told (a study that does not train). The studies' step counter runs
 * on across their phases and networks: `iterations` per network (one per entry of `effectors` when
 * the study trains several), plus `adapt_iterations` of a second phase.
 */
export function studyTotalSteps(study, params) {
  if (!study?.trains) return null;
  const p = { ...(study.defaults ?? {}), ...(params ?? {}) };
  const iterations = Number(p.iterations);
  if (!Number.isFinite(iterations) || iterations <= 0) return null;
  const networks = Array.isArray(p.effectors) && p.effectors.length ? p.effectors.length : 1;
  const adapt = Number(p.adapt_iterations);
  return iterations * networks + (Number.isFinite(adapt) && adapt > 0 ? adapt : 0);
}

/**
 * The phase a study's log line announces ("[baseline] training ..." or "adaptation: training ..."),
 * else null.
 */
export function phaseFromLog(message) {
  const m = /^\[([^\]]+)\]/.exec(message ?? "") ?? /^([\w .+-]+): training /.exec(message ?? "");
  return m ? m[1].trim() : null;
}

/**
 * Fold one websocket message of a study run into its live state {step, loss, phase, error, since}:
 * metrics carry the step and loss, log lines the phase, snapshots the mean endpoint error [m];
 * `since` ({step, at}: the first streamed step and when it came, ms) gives the training rate.
 */
export function applyStudyMessage(live, msg, now = Date.now()) {
  const cur = live ?? {};
  if (msg?.type === "metric") {
    const loss = Number(msg.values?.loss);
    const step = Math.max(cur.step ?? 0, Number(msg.step) || 0);
    return { ...cur, step, loss: Number.isFinite(loss) ? loss : cur.loss, since: cur.since ?? { step, at: now } };
  }
  if (msg?.type === "log") {
    const phase = phaseFromLog(msg.message);
    return phase ? { ...cur, phase } : cur;
  }
  if (msg?.type === "snapshot") {
    const err = Number(msg.data?.mean_endpoint_error);
    return Number.isFinite(err) ? { ...cur, error: err } : cur;
  }
  return cur;
}

/** "about 3 min left", "about 40 s left". */
export function remainingText(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  if (seconds < 90) return `about ${Math.max(1, Math.round(seconds))} s left`;
  return `about ${Math.round(seconds / 60)} min left`;
}

function lossText(x) {
  if (!Number.isFinite(x)) return "";
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential(2) : String(Number(x.toPrecision(3)));
}

/**
 * Progress of a study run: {fraction 0..1, text}. A running training study whose total number of
 * steps is known (`total`, see studyTotalSteps) follows its streamed step (`live.step`, else the
 * run's) and shows the step, loss and phase, and the time left at the rate of the steps streamed
 * since `live.since` (`now` in ms); before the first step, or for a study that does not train, the
 * bar follows the elapsed time against the expected duration (held below 95 %).
 */
export function studyProgress(run, expectedSeconds, elapsed, live = {}, total = null, now = Date.now()) {
  const status = run?.status;
  const step = Math.max(run?.step ?? 0, live?.step ?? 0);
  const steps = step > 0 ? `${step} training steps · ` : "";
  if (status === "finished") return { fraction: 1, text: `finished in ${elapsed.toFixed(1)} s` };
  if (status === "queued") return { fraction: 0, text: "waiting for a free worker…" };
  if (status === "running") {
    const phase = live?.phase ? `${live.phase} · ` : "";
    if (total && step > 0) {
      const fraction = Math.min(0.99, step / total);
      const loss = Number.isFinite(live?.loss) ? ` · loss ${lossText(live.loss)}` : "";
      const error = Number.isFinite(live?.error) ? ` · endpoint error ${(100 * live.error).toFixed(1)} cm` : "";
      const done = step - (live?.since?.step ?? step);
      const seconds = (now - (live?.since?.at ?? now)) / 1000;
      const left = step < total && done >= 5 && seconds >= 2 ? ` · ${remainingText(((total - step) * seconds) / done)}` : "";
      return { fraction, text: `${phase}step ${step} of ${total}${loss}${error} · ${elapsed.toFixed(0)} s${left}` };
    }
    const expected = Number.isFinite(expectedSeconds) && expectedSeconds > 0 ? expectedSeconds : null;
    const fraction = expected ? Math.min(0.95, elapsed / expected) : 0;
    const of = expected ? ` (the defaults take ${expectedText(expected)})` : "";
    return { fraction, text: `${phase}${steps}${elapsed.toFixed(0)} s${of}` };
  }
  return { fraction: 0, text: `${steps}${status ?? "unknown"}` };
}

/** Union of the rows' keys in first-seen order. */
export function tableColumns(rows) {
  const keys = [];
  for (const row of rows ?? []) for (const k of Object.keys(row)) if (!keys.includes(k)) keys.push(k);
  return keys;
}

/** A cell or summary value as text: 4 significant digits, yes/no, "—" for null, short lists joined. */
export function formatValue(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return "—";
    if (Number.isInteger(v)) return String(v);
    if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5)) return v.toExponential(2);
    return String(Number(v.toPrecision(4)));
  }
  if (Array.isArray(v)) return v.length > 12 ? `[${v.length} values]` : v.map(formatValue).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

const finite = (v) => typeof v === "number" && Number.isFinite(v);

/** An across-seed estimate {n, mean, sd, low, high} (one row of the key numbers, not five). */
function isEstimate(v) {
  return !!v && typeof v === "object" && !Array.isArray(v) && ["n", "mean", "low", "high"].every((k) => k in v);
}

/** A nested summary flattened to [{key: "arm26 · roles · biceps", value}] rows (lists stay values; the
 * top-level `claims` list is left to claimRows). */
export function summaryRows(summary, prefix = []) {
  const out = [];
  for (const [k, v] of Object.entries(summary ?? {})) {
    if (!prefix.length && k === "claims" && Array.isArray(v)) continue;
    const path = [...prefix, k];
    if (isEstimate(v)) out.push({ key: path.join(" · "), value: `${intervalText(v.mean, v.low, v.high)} (n = ${v.n})` });
    else if (v && typeof v === "object" && !Array.isArray(v)) out.push(...summaryRows(v, path));
    else out.push({ key: path.join(" · "), value: v });
  }
  return out;
}

/** Study runs of one study, newest first. */
export function runsOf(runs, name) {
  return (runs ?? []).filter((r) => r.study === name).sort((a, b) => b.id - a.id);
}


/** "−3.21 cm [−4.02, −2.40]": a mean with its 95% interval (3 significant digits), or "—". */
export function intervalText(mean, low, high, unit = "") {
  if (!finite(mean)) return "—";
  const f = (v) => String(Number(v.toPrecision(3))).replace("-", "−");
  const u = unit ? ` ${unit}` : "";
  return finite(low) && finite(high) ? `${f(mean)}${u} [${f(low)}, ${f(high)}]` : `${f(mean)}${u}`;
}

/** "p = 0.012", "p < 0.001", or "—". */
export function pText(p) {
  if (!finite(p)) return "—";
  return p < 0.001 ? "p < 0.001" : `p = ${Number(p.toPrecision(2))}`;
}

/** A study summary's `claims` as display rows: claim, measure, estimate (mean [95% interval]), n, test, p,
 * verdict ("holds" / "does not hold" / "—") and replication ("replicates" / "does not replicate" / "—"). */
export function claimRows(summary) {
  const claims = Array.isArray(summary?.claims) ? summary.claims : [];
  return claims.map((c) => ({
    claim: String(c.claim ?? ""),
    measure: String(c.measure ?? ""),
    estimate: intervalText(c.mean, c.low, c.high, c.unit ?? ""),
    n: finite(c.n) ? c.n : null,
    test: c.test || "—",
    p: pText(c.p),
    verdict: c.holds === true ? "holds" : c.holds === false ? "does not hold" : "—",
    replication: c.replicates === true ? "replicates" : c.replicates === false ? "does not replicate" : "—",
  }));
}

// Metric series and trajectory measures for the run views. Pure.

/** Order metric keys for display: "loss" first, then its terms "loss/...", then the rest. */
export function orderKeys(keys) {
  const rank = (k) => (k === "loss" ? 0 : k.startsWith("loss/") ? 1 : 2);
  return [...keys].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** Keys plotted as loss curves (the total and its terms). */
export function lossKeys(keys) {
  return orderKeys(keys.filter((k) => k === "loss" || k.startsWith("loss/")));
}

/**
 * Loss terms ("loss/...") whose curve is the total's at every step both have (within `rtol`): a
 * term that is the only non-zero one. series: {key: {step: [], value: []}}.
 */
export function duplicateTerms(series, rtol = 1e-3) {
  const total = series?.loss;
  if (!total) return [];
  const at = new Map(total.step.map((s, i) => [s, total.value[i]]));
  return Object.keys(series).filter((k) => {
    if (!k.startsWith("loss/")) return false;
    const { step, value } = series[k];
    let shared = 0;
    for (let i = 0; i < step.length; i++) {
      const t = at.get(step[i]);
      if (t === undefined) continue;
      shared += 1;
      if (!(Math.abs(value[i] - t) <= rtol * Math.max(Math.abs(t), 1e-12))) return false;
    }
    return shared > 0;
  });
}

/** Normalise a websocket metric message into {step, values} ({values} or a single {key, value}). */
export function metricFromMessage(msg) {
  if (msg.values && typeof msg.values === "object") return { step: msg.step, values: msg.values };
  if (msg.key !== undefined) return { step: msg.step, values: { [msg.key]: msg.value } };
  return { step: msg.step, values: {} };
}

/**
 * Largest perpendicular distance of each hand path from the straight line between its start and
 * its target: hand [B][T][2], targets [B][2] -> [B] (m).
 */
export function lateralDeviation(hand, targets) {
  return hand.map((path, b) => {
    const [x0, y0] = path[0];
    const [x1, y1] = targets[b] ?? path[path.length - 1];
    const dx = x1 - x0;
    const dy = y1 - y0;
    const len = Math.hypot(dx, dy);
    if (len < 1e-9) return 0;
    let best = 0;
    for (const [x, y] of path) best = Math.max(best, Math.abs((x - x0) * dy - (y - y0) * dx) / len);
    return best;
  });
}

/** Mean of an array (NaN when empty). */
export function mean(xs) {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN;
}

/** Transpose [T][M] -> [M][T]. */
export function transpose(rows) {
  if (!rows.length) return [];
  return rows[0].map((_, j) => rows.map((r) => r[j]));
}

/** Progress text: "12 / 20 (60%)". */
export function progressText(step, total, progress) {
  const p = Number.isFinite(progress) ? progress : total ? step / total : 0;
  return `${step ?? 0} / ${total ?? "?"} (${Math.round(100 * p)}%)`;
}

/** Interpolate a joint-set between two frames ([J][2]) with weight w in [0, 1]. */
export function lerpPoints(a, b, w) {
  if (!a) return b;
  if (!b || a.length !== b.length) return b ?? a;
  return a.map((p, i) => [p[0] + (b[i][0] - p[0]) * w, p[1] + (b[i][1] - p[1]) * w]);
}

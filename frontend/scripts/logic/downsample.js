// Downsampling of (x, y) series for plotting. Pure functions.

/**
 * Largest-triangle-three-buckets downsampling (Steinarsson 2013): keeps the visual shape of a
 * series with at most `maxPoints` points; always keeps the first and last point.
 */
export function lttb(xs, ys, maxPoints) {
  const n = xs.length;
  if (maxPoints >= n || maxPoints < 3) return { x: xs.slice(), y: ys.slice() };
  const outX = [xs[0]];
  const outY = [ys[0]];
  const every = (n - 2) / (maxPoints - 2);
  let a = 0;
  for (let i = 0; i < maxPoints - 2; i++) {
    const avgStart = Math.floor((i + 1) * every) + 1;
    const avgEnd = Math.min(Math.floor((i + 2) * every) + 1, n);
    let avgX = 0;
    let avgY = 0;
    for (let j = avgStart; j < avgEnd; j++) {
      avgX += xs[j];
      avgY += ys[j];
    }
    const len = Math.max(avgEnd - avgStart, 1);
    avgX /= len;
    avgY /= len;
    const start = Math.floor(i * every) + 1;
    const end = Math.floor((i + 1) * every) + 1;
    let best = start;
    let bestArea = -1;
    for (let j = start; j < end; j++) {
      const area = Math.abs((xs[a] - avgX) * (ys[j] - ys[a]) - (xs[a] - xs[j]) * (avgY - ys[a]));
      if (area > bestArea) {
        bestArea = area;
        best = j;
      }
    }
    outX.push(xs[best]);
    outY.push(ys[best]);
    a = best;
  }
  outX.push(xs[n - 1]);
  outY.push(ys[n - 1]);
  return { x: outX, y: outY };
}

/** Keep every k-th item so that at most maxItems remain (first and last kept). */
export function stride(items, maxItems) {
  const n = items.length;
  if (n <= maxItems || maxItems < 2) return items.slice();
  const out = [];
  const step = (n - 1) / (maxItems - 1);
  for (let i = 0; i < maxItems; i++) out.push(items[Math.round(i * step)]);
  return out;
}

/** Exponential moving average smoothing (alpha in (0, 1]; 1 = no smoothing). */
export function ema(ys, alpha) {
  const out = [];
  let s = null;
  for (const y of ys) {
    if (y === null || y === undefined || Number.isNaN(y)) {
      out.push(s);
      continue;
    }
    s = s === null ? y : alpha * y + (1 - alpha) * s;
    out.push(s);
  }
  return out;
}

// Downsampling of series for plotting. Pure functions.

/** Keep every k-th item so that at most maxItems remain (first and last kept). */
export function stride(items, maxItems) {
  const n = items.length;
  if (n <= maxItems || maxItems < 2) return items.slice();
  const out = [];
  const step = (n - 1) / (maxItems - 1);
  for (let i = 0; i < maxItems; i++) out.push(items[Math.round(i * step)]);
  return out;
}

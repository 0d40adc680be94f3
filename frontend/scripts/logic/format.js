// Numbers for narrow display cells. Pure.

const PREFIXES = [
  [1e9, "G"],
  [1e6, "M"],
  [1e3, "k"],
];

/**
 * A force for a table cell, at most ~8 characters: "838 N", "12.3 kN", "5.9 MN", "2.9e+16 N"
 * (SI prefixes up to giga, then scientific notation); "–" for a value that is not finite.
 */
export function formatForce(newtons) {
  if (typeof newtons !== "number" || !Number.isFinite(newtons)) return "–";
  const a = Math.abs(newtons);
  if (a < 1e4) return `${Math.round(newtons)} N`;
  if (a >= 1e12) return `${newtons.toExponential(1)} N`;
  const [scale, prefix] = PREFIXES.find(([s]) => a >= s);
  const v = newtons / scale;
  return `${Math.abs(v) >= 100 ? Math.round(v) : Number(v.toPrecision(3))} ${prefix}N`;
}

/** Diverging colour for a value against a scale (the largest |value| in view): blue for
 * negative, red for positive, transparent at zero. */
export function divergingColor(value: number | null | undefined, scale: number): string {
  if (value === null || value === undefined || !Number.isFinite(value) || scale <= 0) {
    return "transparent";
  }
  const strength = Math.min(1, Math.abs(value) / scale);
  const alpha = (0.85 * strength).toFixed(3);
  return value >= 0 ? `rgba(220, 38, 38, ${alpha})` : `rgba(37, 99, 235, ${alpha})`;
}

/** Sequential colour (activations on text): transparent to green. */
export function sequentialColor(value: number | null | undefined, scale: number): string {
  if (value === null || value === undefined || !Number.isFinite(value) || scale <= 0) {
    return "transparent";
  }
  if (value < 0) return divergingColor(value, scale);
  const alpha = (0.85 * Math.min(1, value / scale)).toFixed(3);
  return `rgba(22, 163, 74, ${alpha})`;
}

/** The largest finite |value|, for scaling colours; 0 when there is none. */
export function maxAbs(values: Iterable<number | null | undefined>): number {
  let best = 0;
  for (const v of values) {
    if (v !== null && v !== undefined && Number.isFinite(v)) best = Math.max(best, Math.abs(v));
  }
  return best;
}

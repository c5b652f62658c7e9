import { isNoise } from "./format";

/** The value to colour, or null for none: missing, not finite, zero up to noise (`isNoise`: a
 * column of noise alone would otherwise be scaled to full colour), or no scale to compare with. */
function colourable(value: number | null | undefined, scale: number): number | null {
  if (value === null || value === undefined || !Number.isFinite(value) || isNoise(value) || scale <= 0) return null;
  return value;
}

/** Diverging colour for a value against a scale (the largest |value| in view): blue for
 * negative, red for positive, transparent at zero (and at noise, |x| < ZERO_TOLERANCE). */
export function divergingColor(given: number | null | undefined, scale: number): string {
  const value = colourable(given, scale);
  if (value === null) return "transparent";
  const strength = Math.min(1, Math.abs(value) / scale);
  const alpha = (0.85 * strength).toFixed(3);
  return value >= 0 ? `rgba(220, 38, 38, ${alpha})` : `rgba(37, 99, 235, ${alpha})`;
}

/** Sequential colour (activations on text): transparent to green. */
export function sequentialColor(given: number | null | undefined, scale: number): string {
  const value = colourable(given, scale);
  if (value === null) return "transparent";
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

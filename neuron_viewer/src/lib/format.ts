/** Values closer to zero than this are floating-point noise: shown as "0" and left uncoloured.
 *
 * Why an absolute 1e-6: every number the debugger and the component pages show (activations,
 * write norms, effects on a logit difference, logits) is computed in float32 at magnitudes of
 * about 1e-3 to 1e2, where the spacing of float32 values is 1.2e-7 at 1.0; two runs that should
 * agree (the baseline of an ablation, nodes upstream of it) differ by a few such steps (the
 * -2.38e-7 seen in a diff column is two), while effects worth reading are 1e-4 and above. It
 * is also where the collation's histograms put zero: their middle bin holds |x| < 2^-20 =
 * 9.54e-7 (`CollationConfig.log2_min`), so tables and histograms agree on what zero is. */
export const ZERO_TOLERANCE = 1e-6;

/** Whether a value is zero up to floating-point noise (`ZERO_TOLERANCE`). */
export function isNoise(value: number): boolean {
  return Math.abs(value) < ZERO_TOLERANCE;
}

/** Numbers as the tables show them: 3 significant digits, a sign, no exponent for common
 * ranges; noise (|x| < ZERO_TOLERANCE) as "0". */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (isNoise(value)) return "0";
  const abs = Math.abs(value);
  if (abs >= 1000 || abs < 0.001) return value.toExponential(2);
  return value.toPrecision(3);
}

/** Shown for a token that only starts a character (its display string is empty: the server
 * shows a character split over byte-level tokens on the token holding its last byte). */
export const PARTIAL_TOKEN = "◌";

/** Whitespace made visible, so " John" and "John" look different in token lists; a token
 * that only starts a character shows as PARTIAL_TOKEN. */
export function visibleToken(token: string): string {
  if (token === "") return PARTIAL_TOKEN;
  return token.replace(/ /g, "␣").replace(/\n/g, "↵").replace(/\t/g, "⇥");
}

/** Numbers as the tables show them: 3 significant digits, a sign, no exponent for common ranges. */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1000 || abs < 0.001) return value.toExponential(2);
  return value.toPrecision(3);
}

/** Whitespace made visible, so " John" and "John" look different in token lists. */
export function visibleToken(token: string): string {
  return token.replace(/ /g, "␣").replace(/\n/g, "↵").replace(/\t/g, "⇥");
}

/** What the activation histogram draws: one bar per bin of the server's record, with the axis
 * ending where the data end rather than at the last bin's far edge.
 *
 * The collation's bins are log-spaced in |x|, mirrored for negative values, with a middle bin
 * (-2^-20, 2^-20) that holds zero (datasets/config.py); the record keeps the span of non-empty
 * bins. So a latent that is never negative has a first bin starting at -9.54e-7, which is zero
 * as far as the collation can tell, and a neuron whose largest value is 4.85 has a last bin
 * ending at 5.66. The view clips both: the zero bin is drawn as 0, and the last bar ends at the
 * component's maximum (`Stats.max`) when that lies inside it. The record has no minimum, so a
 * negative first bin keeps its edge (the minimum lies within 19% of it). */

export interface HistogramBar {
  low: number;
  high: number;
  count: number;
  /** width in bins: 1, or less for a last bin clipped at the maximum */
  width: number;
  /** where the bar starts, in bins from the left */
  offset: number;
}

export interface HistogramView {
  bars: HistogramBar[];
  low: number;
  high: number;
  /** the total width of the bars, in bins */
  span: number;
}

/** A bar never gets narrower than this share of a bin, so a clipped bin stays visible. */
const MIN_WIDTH = 0.15;

/** Whether a bin straddles zero: the collation's zero bin. */
function isZeroBin(low: number, high: number): boolean {
  return low < 0 && high > 0;
}

/** The share of the log-spaced bin [low, high) (both positive) below `at`. */
function logShare(low: number, high: number, at: number): number {
  return Math.log(at / low) / Math.log(high / low);
}

export function histogramView(edges: readonly (number | null)[], counts: readonly number[], max: number | null): HistogramView {
  const bars: HistogramBar[] = counts.map((count, i) => {
    const low = edges[i] ?? -Infinity;
    const high = edges[i + 1] ?? Infinity;
    return isZeroBin(low, high) ? { low: 0, high: 0, count, width: 1, offset: i } : { low, high, count, width: 1, offset: i };
  });
  const first = bars[0];
  const last = bars[bars.length - 1];
  if (first === undefined || last === undefined) return { bars, low: 0, high: 0, span: 0 };
  // The outermost bins are open: everything beyond the last edge is in them too, so the maximum
  // may lie past the last edge as well as inside the last bin.
  if (max !== null && Number.isFinite(max) && max >= last.low && last.low < last.high) {
    if (max < last.high && last.low > 0) last.width = Math.max(MIN_WIDTH, logShare(last.low, last.high, max));
    last.high = max;
  }
  return { bars, low: first.low, high: last.high, span: last.offset + last.width };
}

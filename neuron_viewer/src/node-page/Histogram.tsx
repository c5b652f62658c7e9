/** The activation histogram over log-spaced bins (mirrored for negative values), drawn one bar
 * per bin with a log-count axis, so rare large activations stay visible. The axis runs from
 * the data's lowest bin to their maximum (histogramView). */
import type { Schemas } from "../api/client";
import { formatValue } from "../lib/format";
import { histogramView, type HistogramBar } from "./histogramView";

const W = 520;
const H = 140;

function barRange(bar: HistogramBar): string {
  return bar.low === 0 && bar.high === 0 ? "0" : `[${formatValue(bar.low)}, ${formatValue(bar.high)})`;
}

/** `max`: the component's largest value (its statistics), where the last bar ends. */
export function Histogram({ histogram, max = null }: { histogram: Schemas["Histogram"]; max?: number | null }) {
  const view = histogramView(histogram.edges, histogram.counts, max);
  if (view.bars.length === 0) return <p className="muted">No values.</p>;
  const top = Math.log10(Math.max(...view.bars.map((b) => b.count)) + 1);
  const bw = W / view.span;
  return (
    <figure style={{ margin: 0 }}>
      <svg width={W} height={H + 18} role="img" aria-label="Activation histogram">
        {view.bars.map((bar, i) => {
          const h = top > 0 ? (Math.log10(bar.count + 1) / top) * H : 0;
          return (
            <rect key={i} x={bar.offset * bw} y={H - h} width={Math.max(1, bar.width * bw - 1)} height={h} fill="#0969da">
              <title>{`${barRange(bar)}: ${bar.count.toLocaleString()}`}</title>
            </rect>
          );
        })}
        <line x1={0} y1={H} x2={W} y2={H} stroke="#888" />
        <text x={0} y={H + 14} fontSize={11} data-testid="histogram-low">
          {formatValue(view.low)}
        </text>
        <text x={W} y={H + 14} fontSize={11} textAnchor="end" data-testid="histogram-high">
          {formatValue(view.high)}
        </text>
      </svg>
      <figcaption className="muted small">
        Counts (log scale) over log-spaced bins, from the lowest bin to the maximum; the middle bin
        holds the values that are 0 up to float noise. Hover a bar for its range.
      </figcaption>
    </figure>
  );
}

/** The activation histogram over log-spaced bins (mirrored for negative values), drawn one bar
 * per bin with a log-count axis, so rare large activations stay visible. */
import type { Schemas } from "../api/client";
import { formatValue } from "../lib/format";

const W = 520;
const H = 140;

export function Histogram({ histogram }: { histogram: Schemas["Histogram"] }) {
  const { counts, edges } = histogram;
  if (counts.length === 0) return <p className="muted">No values.</p>;
  const top = Math.log10(Math.max(...counts) + 1);
  const bw = W / counts.length;
  const low = edges[0];
  const high = edges[edges.length - 1];
  return (
    <figure style={{ margin: 0 }}>
      <svg width={W} height={H + 18} role="img" aria-label="Activation histogram">
        {counts.map((c, i) => {
          const h = top > 0 ? (Math.log10(c + 1) / top) * H : 0;
          return (
            <rect key={i} x={i * bw} y={H - h} width={Math.max(1, bw - 1)} height={h} fill="#0969da">
              <title>{`[${formatValue(edges[i])}, ${formatValue(edges[i + 1])}): ${c.toLocaleString()}`}</title>
            </rect>
          );
        })}
        <line x1={0} y1={H} x2={W} y2={H} stroke="#888" />
        <text x={0} y={H + 14} fontSize={11}>
          {formatValue(low)}
        </text>
        <text x={W} y={H + 14} fontSize={11} textAnchor="end">
          {formatValue(high)}
        </text>
      </svg>
      <figcaption className="muted small">
        Counts (log scale) over log-spaced bins; the outermost bins are open. Hover a bar for its range.
      </figcaption>
    </figure>
  );
}

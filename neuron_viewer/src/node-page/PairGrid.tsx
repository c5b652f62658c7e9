/** A head's attention pattern as a query × key grid (rows attend from, columns attend to). */
import { sequentialColor } from "../lib/colorScale";
import { formatValue, visibleToken } from "../lib/format";

const MAX_TOKENS = 64;

export function PairGrid({ strings, pattern }: { strings: string[]; pattern: (number | null)[][] }) {
  const n = Math.min(strings.length, MAX_TOKENS);
  const shown = strings.slice(0, n);
  return (
    <div style={{ overflow: "auto", maxHeight: 560 }}>
      {strings.length > n && <p className="muted small">Showing the first {MAX_TOKENS} tokens.</p>}
      <table className="pair-grid" aria-label="Attention pattern: query rows, key columns" data-testid="pair-grid">
        <thead>
          <tr>
            <th />
            {shown.map((s, k) => (
              <th key={k} scope="col">
                {visibleToken(s)}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((s, q) => (
            <tr key={q}>
              <th scope="row" style={{ textAlign: "right" }}>
                {visibleToken(s)}
              </th>
              {shown.map((_, k) => {
                const v = k <= q ? (pattern[q]?.[k] ?? null) : null;
                return (
                  <td
                    key={k}
                    style={{ background: k <= q ? sequentialColor(v, 1) : "#f6f6f6" }}
                    title={k <= q ? `${JSON.stringify(s)} → ${JSON.stringify(shown[k])}: ${formatValue(v)}` : undefined}
                  />
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

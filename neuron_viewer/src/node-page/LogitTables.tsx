import type { Schemas } from "../api/client";
import { formatValue, visibleToken } from "../lib/format";

function Column({ title, rows }: { title: string; rows: Schemas["TokenValue"][] }) {
  return (
    <table className="data" aria-label={title} style={{ width: "auto" }}>
      <thead>
        <tr>
          <th>{title}</th>
          <th className="num">effect</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.token}>
            <td className="mono">{visibleToken(r.string ?? `#${r.token}`)}</td>
            <td className="num">{formatValue(r.value)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The tokens whose logits the component's output direction raises and lowers most. */
export function LogitTables({ logits }: { logits: Schemas["LogitTables"] | null | undefined }) {
  if (!logits) return <p className="muted">No output direction (no logit tables).</p>;
  return (
    <div className="row" style={{ alignItems: "flex-start" }}>
      <Column title="promoted" rows={logits.top} />
      <Column title="suppressed" rows={logits.bottom} />
    </div>
  );
}

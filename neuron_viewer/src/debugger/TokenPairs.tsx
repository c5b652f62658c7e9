/** Which tokens of the prompt and the second prompt pair up: the second prompt's tokens under
 * the prompt's, right-aligned, tokens with no pair greyed; the explained positions outlined. */
import type { Schemas } from "../api/client";
import { alignedColumns, alignmentSummary } from "../lib/alignment";
import { visibleToken } from "../lib/format";

function Cell({ strings, index, paired, explained }: { strings: readonly string[]; index: number | null; paired: boolean; explained: boolean }) {
  if (index === null) return <td className="muted" aria-hidden="true" />;
  const classes = ["mono", paired ? "" : "muted unpaired", explained ? "explained" : ""].filter((c) => c !== "");
  return (
    <td
      className={classes.join(" ")}
      title={`token ${index}${paired ? "" : ": no paired token in the other prompt"}`}
      style={{ whiteSpace: "pre", padding: "0 3px", border: "1px solid var(--border)", ...(paired ? {} : { opacity: 0.45 }), ...(explained ? { outline: "2px solid var(--accent)" } : {}) }}
    >
      {visibleToken(strings[index] ?? "")}
    </td>
  );
}

export function TokenPairs({ result }: { result: Schemas["DebuggerResult"] }) {
  const alignment = result.alignment;
  const right = result.tokenStrings.right;
  if (result.rightRun !== "prompt" || alignment === null || !right) return null;
  const columns = alignedColumns(alignment);
  const explainedRight = alignment.leftToRight[result.position] ?? null;
  return (
    <div className="small" style={{ marginTop: "0.4rem" }}>
      <div className="muted">{alignmentSummary(alignment)}</div>
      <div style={{ overflowX: "auto" }}>
        <table className="token-pairs" aria-label="Token pairs" data-testid="token-pairs" style={{ borderCollapse: "collapse" }}>
          <tbody>
            {(["left", "right"] as const).map((side) => (
              <tr key={side}>
                <th scope="row" className="muted" style={{ textAlign: "left", paddingRight: "0.4rem", fontWeight: "normal" }}>
                  {side === "left" ? "prompt" : "second"}
                </th>
                {columns.map((c, i) => (
                  <Cell
                    key={i}
                    strings={side === "left" ? result.tokenStrings.left : right}
                    index={c[side]}
                    paired={c.left !== null && c.right !== null}
                    explained={side === "left" ? c.left === result.position : c.right !== null && c.right === explainedRight}
                  />
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

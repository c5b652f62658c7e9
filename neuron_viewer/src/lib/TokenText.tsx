/** Tokens coloured by a value each, with the value on hover. */
import { sequentialColor } from "./colorScale";
import { formatValue, visibleToken } from "./format";

interface Props {
  strings: readonly string[];
  values: readonly (number | null)[];
  scale: number;
  focus?: number | null;
  label?: string;
  color?: (value: number | null, scale: number) => string;
}

export function TokenText({ strings, values, scale, focus = null, label, color = sequentialColor }: Props) {
  return (
    <span aria-label={label}>
      {strings.map((s, i) => {
        const v = values[i] ?? null;
        return (
          <span
            key={i}
            className={i === focus ? "token focus" : "token"}
            style={{ background: color(v, scale) }}
            title={`${JSON.stringify(s)} (token ${i}): ${formatValue(v)}`}
          >
            {s.replace(/\n/g, "↵")}
          </span>
        );
      })}
    </span>
  );
}

/** The tokens of a prompt, as chips with visible whitespace. */
export function TokenStrip({ strings, highlight }: { strings: readonly string[]; highlight?: number }) {
  return (
    <div className="token-strip" aria-label="Prompt tokens">
      {strings.map((s, i) => (
        <span key={i} className={i === highlight ? "token target-pos" : "token"} title={`token ${i}`}>
          {visibleToken(s)}
        </span>
      ))}
    </div>
  );
}

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

/** The tokens of a prompt, as chips with visible whitespace; with `onSelect`, each chip is a
 * button (the highlighted one pressed). */
export function TokenStrip({
  strings,
  highlight,
  onSelect,
  label = "Prompt tokens",
}: {
  strings: readonly string[];
  highlight?: number;
  onSelect?: (i: number) => void;
  label?: string;
}) {
  return (
    <div className="token-strip" aria-label={label}>
      {strings.map((s, i) => {
        const className = i === highlight ? "token target-pos" : "token";
        return onSelect === undefined ? (
          <span key={i} className={className} title={`token ${i}`}>
            {visibleToken(s)}
          </span>
        ) : (
          <button
            key={i}
            type="button"
            className={`${className} token-button`}
            title={`Explain the next token after token ${i}`}
            aria-label={`Token ${i}: ${visibleToken(s)}`}
            aria-pressed={i === highlight}
            onClick={() => onSelect(i)}
          >
            {visibleToken(s)}
          </button>
        );
      })}
    </div>
  );
}

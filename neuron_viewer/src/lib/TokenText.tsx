/** Tokens coloured by a value each, with the value on hover. */
import { sequentialColor } from "./colorScale";
import { formatValue, visibleToken } from "./format";

const PARTIAL_TITLE = "the start of a character that a later token completes";

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
        // A token that only starts a character shows nothing (the character reads whole on the
        // token that completes it); a sliver keeps its colour visible.
        const partial = s === "";
        return (
          <span
            key={i}
            className={`token${i === focus ? " focus" : ""}${partial ? " partial" : ""}`}
            style={{ background: color(v, scale) }}
            title={`${partial ? PARTIAL_TITLE : JSON.stringify(s)} (token ${i}): ${formatValue(v)}`}
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
        const className = `token${i === highlight ? " target-pos" : ""}${s === "" ? " partial" : ""}`;
        return onSelect === undefined ? (
          <span key={i} className={className} title={s === "" ? `token ${i}: ${PARTIAL_TITLE}` : `token ${i}`}>
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

/** Target and distractor strings, each with a live (debounced) tokenization preview and a
 * warning when it is not exactly one token. */
import { useTokenize } from "../api/hooks";
import { visibleToken } from "../lib/format";
import { checkSingleToken, suggestTarget, suggestionText, type PreviewToken } from "../lib/tokenPreview";
import { useDebounced } from "../lib/useDebounced";

const DEBOUNCE_MS = 250;

function TokenBadge({ text }: { text: string }) {
  const settled = useDebounced(text, DEBOUNCE_MS);
  const query = useTokenize(settled);
  const tokens: PreviewToken[] | undefined =
    settled !== text || query.data === undefined
      ? undefined
      : query.data.ids.map((id, i) => ({ id, text: query.data.strings[i] ?? "" }));
  const check = checkSingleToken(text, tokens);
  // A text of several tokens: is its first token's text one token when typed? ("" asks nothing)
  const candidate = check.status === "multi" ? (check.tokens[0]?.text ?? "") : "";
  const retyped = useTokenize(candidate).data;
  if (query.error) {
    return <span className="token-badge none" role="alert">{query.error.message}</span>;
  }
  switch (check.status) {
    case "empty":
      return null;
    case "pending":
      return <span className="token-badge muted">…</span>;
    case "ok":
      return (
        <span className="token-badge ok" title={`token id ${check.token.id}`}>
          ✓ <code>{visibleToken(check.token.text)}</code> #{check.token.id}
        </span>
      );
    case "multi": {
      const suggestion = suggestTarget(
        check.tokens,
        retyped?.ids.map((id, i) => ({ id, text: retyped.strings[i] ?? "" })),
      );
      return (
        <span className="token-badge multi" role="alert">
          ⚠ {check.message} {suggestionText(suggestion)}
        </span>
      );
    }
    default:
      return (
        <span className="token-badge multi" role="alert">
          ⚠ {check.message}
        </span>
      );
  }
}

interface Props {
  label: string;
  idPrefix: string;
  values: string[];
  onChange: (values: string[]) => void;
  max: number;
}

export function TokenListInput({ label, idPrefix, values, onChange, max }: Props) {
  const set = (i: number, v: string) => onChange(values.map((old, j) => (j === i ? v : old)));
  const remove = (i: number) => onChange(values.filter((_, j) => j !== i));
  return (
    <fieldset className="stack" style={{ border: "none", padding: 0, margin: 0 }}>
      <legend style={{ fontWeight: 600 }}>{label}</legend>
      {values.map((value, i) => (
        <div key={i} className="row">
          <input
            id={`${idPrefix}-${i}`}
            type="text"
            value={value}
            onChange={(e) => set(i, e.target.value)}
            aria-label={`${label} ${i + 1}`}
            placeholder="one token, e.g. ' Mary'"
            style={{ width: "9rem" }}
          />
          {values.length > 1 && (
            <button type="button" className="small" onClick={() => remove(i)} aria-label={`Remove ${label.toLowerCase()} ${i + 1}`}>
              ×
            </button>
          )}
          <TokenBadge text={value} />
        </div>
      ))}
      {values.length < max && (
        <div>
          <button type="button" className="small" onClick={() => onChange([...values, ""])}>
            + add {label.toLowerCase().replace(/s$/, "")}
          </button>
        </div>
      )}
    </fieldset>
  );
}

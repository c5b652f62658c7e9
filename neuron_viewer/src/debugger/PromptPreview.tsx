import { useTokenize } from "../api/hooks";
import { TokenStrip } from "../lib/TokenText";
import { useDebounced } from "../lib/useDebounced";

/** The tokens of a prompt as it is typed; `mustMatch` warns when a second prompt's token count
 * differs from the first's (two runs need the same length). */
export function PromptPreview({ text, mustMatch }: { text: string; mustMatch?: number }) {
  const settled = useDebounced(text, 300);
  const query = useTokenize(settled);
  if (settled === "") return null;
  if (query.error) return <div className="status error" role="alert">{query.error.message}</div>;
  if (query.data === undefined) return <div className="muted small">tokenizing…</div>;
  const n = query.data.ids.length;
  return (
    <div className="small">
      <span className="muted">{n} tokens: </span>
      <TokenStrip strings={query.data.strings} highlight={n - 1} />
      {mustMatch !== undefined && mustMatch !== n && (
        <p className="warn-text" role="alert">
          The second prompt has {n} tokens, the prompt {mustMatch}: two runs need the same number.
        </p>
      )}
    </div>
  );
}

/** The number of tokens of a text once tokenized, for comparisons. */
export function useTokenCount(text: string): number | undefined {
  const settled = useDebounced(text, 300);
  return useTokenize(settled).data?.ids.length;
}

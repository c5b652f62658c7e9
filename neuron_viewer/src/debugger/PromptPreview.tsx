import { useTokenize } from "../api/hooks";
import { TokenStrip } from "../lib/TokenText";
import { useDebounced } from "../lib/useDebounced";

/** The tokens of a prompt as it is typed; `pairWith` (the first prompt's token count) notes how
 * a second prompt of another length pairs up with it: right-aligned, its last tokens with the
 * first prompt's last. */
export function PromptPreview({ text, pairWith }: { text: string; pairWith?: number }) {
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
      {pairWith !== undefined && pairWith !== n && (
        <p className="muted" data-testid="length-note">
          The second prompt has {n} tokens, the prompt {pairWith}: they are right-aligned, so their last{" "}
          {Math.min(n, pairWith)} tokens pair up and the first {Math.abs(n - pairWith)} of the{" "}
          {n > pairWith ? "second prompt" : "prompt"} have no pair.
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

/** "Activations on my text": the component run on the user's own text (kept in the URL as
 * ?text=), per token for neurons and latents, as a query × key grid for heads. */
import { useState, type SubmitEvent } from "react";
import { useSearchParams } from "react-router-dom";
import type { ComponentSpec } from "../api/hooks";
import { useActivations } from "../api/hooks";
import { maxAbs } from "../lib/colorScale";
import { formatValue } from "../lib/format";
import { QueryStatus } from "../lib/QueryStatus";
import { TokenText } from "../lib/TokenText";
import { PairGrid } from "./PairGrid";

export function MyTextPanel({ spec }: { spec: ComponentSpec }) {
  const [params, setParams] = useSearchParams();
  const text = params.get("text") ?? "";
  const [draft, setDraft] = useState(text);
  const query = useActivations(spec, text);

  function submit(e: SubmitEvent) {
    e.preventDefault();
    const next = new URLSearchParams(params);
    if (draft === "") next.delete("text");
    else next.set("text", draft);
    setParams(next);
  }

  const data = query.data;
  return (
    <section className="panel" aria-labelledby="mytext-heading">
      <h2 id="mytext-heading">Activations on my text</h2>
      <form className="stack" onSubmit={submit}>
        <label htmlFor="my-text" className="visually-hidden">
          Your text
        </label>
        <textarea id="my-text" rows={3} value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="Type some text…" />
        <div>
          <button type="submit" disabled={draft === ""}>
            Show activations
          </button>
        </div>
      </form>
      <QueryStatus isPending={query.isPending} error={query.error} what="activations" idle={text === ""}>
        {data && (
          <div data-testid="my-text-result">
            <p className="muted small">max {formatValue(data.max)}</p>
            {data.values && (
              <div className="example">
                <TokenText strings={data.tokenStrings} values={data.values} scale={maxAbs(data.values)} />
              </div>
            )}
            {data.pattern && <PairGrid strings={data.tokenStrings} pattern={data.pattern} />}
          </div>
        )}
      </QueryStatus>
    </section>
  );
}

import type { DebuggerState } from "../lib/urlState";

interface Option<T extends string> {
  value: T;
  label: string;
}

function Segmented<T extends string>(props: {
  label: string;
  value: T;
  options: Option<T>[];
  onChange: (value: T) => void;
}) {
  return (
    <div className="segmented" role="group" aria-label={props.label}>
      {props.options.map((o) => (
        <button
          key={o.value}
          type="button"
          aria-pressed={props.value === o.value}
          onClick={() => props.onChange(o.value)}
        >
          {o.label}
        </button>
      ))}
    </div>
  );
}

/** Which node families the table lists: neurons or MLP latents, heads or attention latents,
 * and the token embeddings. */
export function FamilyToggles({ state, update }: { state: DebuggerState; update: (c: Partial<DebuggerState>) => void }) {
  return (
    <>
      <Segmented
        label="MLP nodes"
        value={state.mlp}
        options={[
          { value: "neurons", label: "neurons" },
          { value: "latents", label: "MLP latents" },
        ]}
        onChange={(mlp) => update({ mlp })}
      />
      <Segmented
        label="Attention nodes"
        value={state.attn}
        options={[
          { value: "heads", label: "heads" },
          { value: "latents", label: "attention latents" },
        ]}
        onChange={(attn) => update({ attn })}
      />
      <input
        id="emb-toggle"
        type="checkbox"
        checked={state.embeddings}
        onChange={(e) => update({ embeddings: e.target.checked })}
      />
      <label htmlFor="emb-toggle">embeddings</label>
    </>
  );
}

import { useModelInfo } from "../api/hooks";
import type { AttnChoice, DebuggerState, MlpChoice } from "../lib/urlState";
import { familyChoices } from "./families";

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

const MLP_LABELS: Record<MlpChoice, string> = { neurons: "neurons", latents: "MLP latents" };
const ATTN_LABELS: Record<AttnChoice, string> = { heads: "heads", latents: "attention latents" };

/** Which node families the table lists: neurons or MLP latents, heads or attention latents,
 * and the token embeddings. Only the families the model has are offered (an attention-only
 * model has no neurons; latents need an autoencoder at such a site), and a toggle with one
 * choice is no toggle. Nothing is offered until the model's description has arrived. */
export function FamilyToggles({ state, update }: { state: DebuggerState; update: (c: Partial<DebuggerState>) => void }) {
  const info = useModelInfo().data;
  const choices = info === undefined ? { mlp: [], attn: [] } : familyChoices(info);
  return (
    <>
      {choices.mlp.length > 1 && (
        <Segmented
          label="MLP nodes"
          value={state.mlp}
          options={choices.mlp.map((value) => ({ value, label: MLP_LABELS[value] }))}
          onChange={(mlp) => update({ mlp })}
        />
      )}
      {choices.attn.length > 1 && (
        <Segmented
          label="Attention nodes"
          value={state.attn}
          options={choices.attn.map((value) => ({ value, label: ATTN_LABELS[value] }))}
          onChange={(attn) => update({ attn })}
        />
      )}
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

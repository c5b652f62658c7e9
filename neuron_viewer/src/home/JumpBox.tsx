import { useState, type SubmitEvent } from "react";
import { useNavigate } from "react-router-dom";
import { useModelPath } from "../api/modelName";
import type { ModelInfo } from "../api/hooks";
import { componentPath, parseLayerIndex } from "../lib/nodes";

type Kind = "neuron" | "head";

/** Jump to a component page by `layer:index`, checked against the model's sizes. */
export function JumpBox({ info }: { info: ModelInfo }) {
  const navigate = useNavigate();
  const modelPath = useModelPath();
  const [kind, setKind] = useState<Kind>(info.config.attnOnly ? "head" : "neuron");
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);

  function submit(e: SubmitEvent) {
    e.preventDefault();
    const parsed = parseLayerIndex(text);
    if (parsed === null) {
      setProblem('Write "layer:index", e.g. 1:17.');
      return;
    }
    const size = kind === "neuron" ? info.config.dMlp : info.config.nHeads;
    if (parsed.layer >= info.config.nLayers) {
      setProblem(`Layers are 0..${info.config.nLayers - 1}.`);
      return;
    }
    if (parsed.index >= size) {
      setProblem(`${kind === "neuron" ? "Neurons" : "Heads"} are 0..${size - 1}.`);
      return;
    }
    setProblem(null);
    void navigate(modelPath(componentPath({ family: kind, layer: parsed.layer, site: null, index: parsed.index })));
  }

  return (
    <section className="panel" aria-labelledby="jump-heading">
      <h2 id="jump-heading">Go to a component</h2>
      <form className="row" onSubmit={submit}>
        <label htmlFor="jump-kind">Kind</label>
        <select id="jump-kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
          {!info.config.attnOnly && <option value="neuron">neuron</option>}
          <option value="head">head</option>
        </select>
        <label htmlFor="jump-text">layer:index</label>
        <input
          id="jump-text"
          type="text"
          placeholder="1:17"
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-invalid={problem !== null}
          aria-describedby="jump-problem"
        />
        <button type="submit">Open</button>
      </form>
      <p id="jump-problem" className="error-text small" role={problem === null ? undefined : "alert"}>
        {problem}
      </p>
    </section>
  );
}

/** The sampling request: the current ablations (each ablated node's component, at every token)
 * and steering interventions (a neuron's or latent's output direction times a strength). */
import type { Schemas } from "../api/client";
import { componentLabel, componentOf, parseNodeId, type ComponentId } from "../lib/nodes";
import type { DebuggerState } from "../lib/urlState";

export type SamplingRequest = Schemas["SamplingRequest"];

/** The component of a node id, for neurons, heads and latents (not embeddings). */
export function nodeComponent(nodeId: string): ComponentId | null {
  const node = parseNodeId(nodeId);
  return node === null ? null : componentOf(node);
}

/** Only neurons and latents have one output direction to steer along. */
export function canSteer(nodeId: string): boolean {
  const c = nodeComponent(nodeId);
  return c !== null && (c.family === "neuron" || c.family === "latent");
}

export function samplingComponents(state: DebuggerState): ComponentId[] {
  const out: ComponentId[] = [];
  for (const a of state.ablations) {
    const c = nodeComponent(a.nodeId);
    if (c !== null && !out.some((o) => componentLabel(o) === componentLabel(c))) out.push(c);
  }
  return out;
}

export interface Steering {
  nodeId: string;
  component: ComponentId;
  strength: number;
}

export function steerings(state: DebuggerState): Steering[] {
  const out: Steering[] = [];
  for (const s of state.steer) {
    const c = canSteer(s.nodeId) ? nodeComponent(s.nodeId) : null;
    if (c !== null) out.push({ nodeId: s.nodeId, component: c, strength: s.strength });
  }
  return out;
}

export function componentSpec(c: ComponentId): Schemas["ComponentSpec"] {
  return c.family === "latent"
    ? { family: "latent", site: c.site, index: c.index }
    : { family: c.family, layer: c.layer, index: c.index };
}

export function buildSamplingRequest(state: DebuggerState, maxNewTokens: number, temperature: number): SamplingRequest {
  return {
    prompt: state.prompt,
    interventions: [
      ...samplingComponents(state).map((c) => ({ kind: "ablate" as const, component: componentSpec(c) })),
      ...steerings(state).map((s) => ({ kind: "steer" as const, component: componentSpec(s.component), strength: s.strength })),
    ],
    maxNewTokens,
    temperature,
    nSamples: temperature > 0 ? 3 : 1,
  };
}

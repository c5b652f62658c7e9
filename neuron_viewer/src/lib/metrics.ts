/** The four metrics of every node (see DESIGN.md, "Terms"), in table order, with the text of
 * their column tooltips. The keys are the wire names of the node values. */
import type { Schemas } from "../api/client";
import type { Covers, Exhaustive } from "../api/enums";

export const METRICS = [
  "activation",
  "writeMagnitude",
  "directEffect",
  "totalEffect",
] as const satisfies readonly (keyof Schemas["NodeValues"])[];
export type Metric = (typeof METRICS)[number];
export type MetricsCovered = Exhaustive<Covers<keyof Schemas["NodeValues"], typeof METRICS>>;

export const METRIC_LABELS: Record<Metric, string> = {
  activation: "Activation",
  writeMagnitude: "Write magnitude",
  directEffect: "Direct effect",
  totalEffect: "Est. total effect",
};

export const METRIC_HELP: Record<Metric, string> = {
  activation:
    "The neuron's post-activation, the head's attention probability from the query to the key " +
    "token, the latent's value, or 1 for an embedding.",
  writeMagnitude: "The norm of what the node adds to the residual stream (its write vector).",
  directEffect:
    "Write vector · gradient of the objective at the final residual stream (final LayerNorm " +
    "scale held constant): the effect through no later component.",
  totalEffect:
    "Activation × gradient of the objective with respect to the activation (attribution " +
    "patching against a zero baseline): the estimated change if the node were ablated to zero, " +
    "with the sign reversed. Check it with Verify.",
};

export const SIDES = ["left", "diff", "right"] as const satisfies readonly (keyof Schemas["NodeValueSides"])[];
export type Side = (typeof SIDES)[number];
export type SidesCovered = Exhaustive<Covers<keyof Schemas["NodeValueSides"], typeof SIDES>>;

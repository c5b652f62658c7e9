/** From the debugger's URL state to the body of one debugger run, and back from the result's
 * node rows to table rows. */
import type { Schemas } from "../api/client";
import type { Selection } from "../api/enums";
import { formatValue, visibleToken } from "../lib/format";
import type { Side } from "../lib/metrics";
import type { MetricValues, TableNode } from "../lib/nodeTable";
import { nodeLabel, parseNodeId, autoencoderSite } from "../lib/nodes";
import type { DebuggerState, TraceChoice } from "../lib/urlState";

export type DebuggerRun = Schemas["DebuggerRun"];
export type DebuggerResult = Schemas["DebuggerResult"];
export type NodeRow = Schemas["NodeRow"];
export type TraceSpec = Schemas["TraceSpec"];

export type { Selection };

/** The node families to request: neurons or the latents of the MLP autoencoders, heads or the
 * latents of the attention-output autoencoders (the server selects them by site). */
export function requestedFamilies(state: DebuggerState): Selection[] {
  const families: Selection[] = [];
  if (state.embeddings) families.push("embedding");
  families.push(state.mlp === "neurons" ? "neuron" : "mlp_latent");
  families.push(state.attn === "heads" ? "head" : "attn_latent");
  return families;
}

export function traceSpec(trace: TraceChoice): TraceSpec | null {
  const node = parseNodeId(trace.nodeId);
  if (node === null) return null;
  if (trace.kind === "latent_pre") {
    if (node.family !== "latent") return null;
    return { kind: trace.kind, token: node.token, index: node.index, site: autoencoderSite(node.site) };
  }
  if (trace.kind === "neuron_pre") {
    if (node.family !== "neuron") return null;
    return { kind: trace.kind, token: node.token, index: node.index, layer: node.layer };
  }
  if (node.family !== "head") return null;
  return { kind: trace.kind, token: node.token, index: node.index, layer: node.layer, keyToken: node.keyToken };
}

export function hasTwoRuns(state: DebuggerState): boolean {
  return state.comparePrompt !== null || state.ablations.length > 0;
}

/** The run to request, or null when the form is not complete (no prompt, target or distractor). */
export function buildRun(state: DebuggerState): DebuggerRun | null {
  const targets = state.targets.filter((t) => t !== "");
  const distractors = state.distractors.filter((d) => d !== "");
  if (state.prompt === "" || targets.length === 0 || distractors.length === 0) return null;
  const trace = state.trace === null ? null : traceSpec(state.trace);
  const run: DebuggerRun = {
    prompt: state.prompt,
    targets,
    distractors,
    families: requestedFamilies(state),
    k: state.k,
    ablations: state.ablations.map((a) =>
      a.value === "constant" ? { nodeId: a.nodeId, value: a.value, constant: a.constant ?? 0 } : { nodeId: a.nodeId, value: a.value },
    ),
    verify: state.verify,
    rankOn: hasTwoRuns(state) ? state.rankOn : "left",
  };
  if (state.position !== null) run.position = state.position;
  if (state.comparePrompt !== null && state.comparePrompt !== "") run.comparePrompt = state.comparePrompt;
  if (trace !== null) run.trace = trace;
  return run;
}

export type LogitLensRequest = Schemas["LogitLensRequest"];

export const LENS_TOP_N = 5;

/** The logit lens at the explained position, with direct logit attribution when the targets
 * and distractors are both set; null without a prompt. */
export function buildLensRequest(state: DebuggerState): LogitLensRequest | null {
  if (state.prompt === "") return null;
  const request: LogitLensRequest = { prompt: state.prompt, topN: LENS_TOP_N };
  if (state.position !== null) request.position = state.position;
  const targets = state.targets.filter((t) => t !== "");
  const distractors = state.distractors.filter((d) => d !== "");
  if (targets.length > 0 && distractors.length > 0) {
    request.targets = targets;
    request.distractors = distractors;
  }
  return request;
}

function metricValues(values: Schemas["NodeValues"]): MetricValues {
  return {
    activation: values.activation ?? null,
    writeMagnitude: values.writeMagnitude ?? null,
    directEffect: values.directEffect ?? null,
    totalEffect: values.totalEffect ?? null,
  };
}

function tokenAt(strings: readonly string[], i: number): string {
  const s = strings[i];
  return s === undefined ? `#${i}` : `"${visibleToken(s)}"`;
}

/** "the token" for neurons and latents; "from query → to key" for head pairs. */
export function nodeTokens(row: NodeRow, strings: readonly string[]): string {
  const { node } = row;
  const at = `${tokenAt(strings, node.token)} ${node.token}`;
  if (node.keyToken === null) return at;
  return `${at} → ${tokenAt(strings, node.keyToken)} ${node.keyToken}`;
}

const PIN_TEXT: Record<NodeRow["pins"][number], string> = {
  ablated: "ablated in the left run",
  traced: "its quantity is traced",
};

/** A tooltip of why the node is listed and what it writes: the tokens it promotes and
 * suppresses most. */
export function nodeTooltip(row: NodeRow): string {
  const list = (scores: Schemas["TokenScore"][] | null | undefined) =>
    (scores ?? []).map((s) => `"${visibleToken(s.string)}" ${formatValue(s.value)}`).join(", ");
  const lines = [row.node.id];
  if (row.pins.length > 0) lines.push(`pinned: ${row.pins.map((p) => PIN_TEXT[p]).join("; ")}`);
  if (row.rankedBy.length > 0) lines.push(`listed by ${row.rankedBy.join(", ")}`);
  const up = list(row.tokens.outputTop);
  const down = list(row.tokens.outputBottom);
  if (up) lines.push(`promotes: ${up}`);
  if (down) lines.push(`suppresses: ${down}`);
  return lines.join("\n");
}

export interface DebuggerTableNode extends TableNode {
  /** unique in the table: a node of the compare prompt alone may share its id with a node of
   * the prompt at the same positions */
  key: string;
  pins: NodeRow["pins"];
  row: NodeRow;
}

/** Which runs have the node: every run ("both"), or, with a compare prompt of another
 * length, the left or the right run alone. */
export function nodeRuns(row: NodeRow, twoRuns: boolean): "both" | "left" | "right" {
  if (row.values.left === null) return "right";
  return twoRuns && !row.values.right ? "left" : "both";
}

export function tableRows(result: DebuggerResult): DebuggerTableNode[] {
  const twoRuns = result.rightRun !== null;
  return result.nodes.map((row) => {
    const parsed = parseNodeId(row.node.id);
    const runs = nodeRuns(row, twoRuns);
    const values: Partial<Record<Side, MetricValues>> = {};
    if (row.values.left) values.left = metricValues(row.values.left);
    if (row.values.right) values.right = metricValues(row.values.right);
    if (row.values.diff) values.diff = metricValues(row.values.diff);
    // A node of the compare prompt alone has that prompt's positions.
    const strings = runs === "right" ? (result.tokenStrings.right ?? []) : result.tokenStrings.left;
    const out: DebuggerTableNode = {
      id: row.node.id,
      key: runs === "right" ? `right:${row.node.id}` : row.node.id,
      family: row.node.family,
      name: parsed === null ? row.node.id : nodeLabel(parsed),
      tokens: nodeTokens(row, strings),
      values,
      pins: row.pins,
      row,
    };
    if (row.pins.length > 0) out.pinned = true;
    if (runs !== "both") out.only = runs;
    return out;
  });
}

/** The debugger's state as URL search parameters, so that every view can be reloaded, shared
 * and bookmarked. Defaults are left out of the URL; decoding never throws (bad values fall back
 * to defaults), and decode(encode(state)) equals state for every valid state.
 *
 *   ?prompt=...&t=)&d=]&mlp=latents&attn=heads&emb=0&k=20&ablate=<nodeId>~mean
 *    &ablate=<nodeId>~constant:1.5&trace=head_query~<nodeId>&compare=...&verify=10&rank=diff
 *    &sort=totalEffect.left.desc&filter=L1&pos=3&lens=1&steer=<nodeId>~-4
 */
import { CONSTANT_RANGE, K_RANGE, POSITION_RANGE, STRENGTH_RANGE, VERIFY_RANGE, type Range } from "../api/bounds";
import type { AblationValue, Covers, Exhaustive, RankOn, TraceKind } from "../api/enums";
import { METRICS, SIDES, type Metric, type Side } from "./metrics";

export type { RankOn };
export type MlpChoice = "neurons" | "latents";
export type AttnChoice = "heads" | "latents";
/** The ablation values the debugger offers: all the server's but "source" (the value at the
 * second prompt, which the debugger never sends). */
export type AblationValueChoice = Exclude<AblationValue, "source">;
export const ABLATION_VALUES = ["zero", "mean", "constant"] as const satisfies readonly AblationValueChoice[];
export type AblationValuesCovered = Exhaustive<Covers<AblationValueChoice, typeof ABLATION_VALUES>>;
export const TRACE_KINDS = [
  "neuron_pre",
  "latent_pre",
  "head_query",
  "head_key",
  "head_qk",
  "head_value",
] as const satisfies readonly TraceKind[];
export type TraceKindsCovered = Exhaustive<Covers<TraceKind, typeof TRACE_KINDS>>;
export type TraceKindChoice = TraceKind;
/** in the node table's order */
export const RANK_ON = ["left", "right", "diff"] as const satisfies readonly RankOn[];
export type RankOnCovered = Exhaustive<Covers<RankOn, typeof RANK_ON>>;

export interface AblationChoice {
  nodeId: string;
  value: AblationValueChoice;
  /** the value set, with `value: "constant"` only */
  constant?: number;
}

/** Sampling only: add a neuron's or latent's output direction times `strength` at every token
 * (the node's token is ignored). */
export interface SteerChoice {
  nodeId: string;
  strength: number;
}

/** An ablation with another value; a constant starts at 0, other values carry none. */
export function ablationWithValue(a: AblationChoice, value: AblationValueChoice): AblationChoice {
  return value === "constant" ? { nodeId: a.nodeId, value, constant: a.constant ?? 0 } : { nodeId: a.nodeId, value };
}

export interface TraceChoice {
  kind: TraceKindChoice;
  nodeId: string;
}

export interface SortChoice {
  metric: Metric;
  side: Side;
  descending: boolean;
}

export interface DebuggerState {
  prompt: string;
  targets: string[];
  distractors: string[];
  mlp: MlpChoice;
  attn: AttnChoice;
  embeddings: boolean;
  k: number;
  ablations: AblationChoice[];
  trace: TraceChoice | null;
  comparePrompt: string | null;
  verify: number;
  /** which run picks the listed nodes when there are two */
  rankOn: RankOn;
  sort: SortChoice;
  filter: string;
  /** the token whose next token is explained; null: the last */
  position: number | null;
  /** whether the logit-lens panel is open */
  lens: boolean;
  steer: SteerChoice[];
}

export const K_MIN = K_RANGE.min;
export const K_MAX = K_RANGE.max;
export const VERIFY_MAX = VERIFY_RANGE.max;
/** the last token position a run can explain (positions count from 0 here) */
export const POSITION_MAX = POSITION_RANGE.max;

export const DEFAULT_SORT: SortChoice = { metric: "totalEffect", side: "left", descending: true };

export const DEFAULT_STATE: DebuggerState = {
  prompt: "",
  targets: [""],
  distractors: [""],
  mlp: "neurons",
  attn: "heads",
  embeddings: true,
  k: 10,
  ablations: [],
  trace: null,
  comparePrompt: null,
  verify: 0,
  rankOn: "left",
  sort: DEFAULT_SORT,
  filter: "",
  position: null,
  lens: false,
  steer: [],
};

const SEP = "~";

function oneOf<T extends string>(value: string | null, options: readonly T[], fallback: T): T {
  return options.find((o) => o === value) ?? fallback;
}

function intIn(value: string | null, min: number, max: number, fallback: number): number {
  if (value === null || !/^-?\d+$/.test(value)) return fallback;
  const n = Number(value);
  return n >= min && n <= max ? n : fallback;
}

function numberIn(value: string | null, { min, max }: Range): number | null {
  if (value === null || value.trim() === "") return null;
  const n = Number(value);
  return Number.isFinite(n) && n >= min && n <= max ? n : null;
}

/** An ablation constant within the server's bounds, or null. */
export function parseConstant(value: string | null): number | null {
  return numberIn(value, CONSTANT_RANGE);
}

/** A steering strength within the server's bounds, or null. */
export function parseStrength(value: string | null): number | null {
  return numberIn(value, STRENGTH_RANGE);
}

function encodeSort(sort: SortChoice): string {
  return [sort.metric, sort.side, sort.descending ? "desc" : "asc"].join(".");
}

function decodeSort(value: string | null): SortChoice {
  if (value === null) return DEFAULT_SORT;
  const [metricText, sideText, dir] = value.split(".");
  const metric = METRICS.find((m) => m === metricText);
  const side = SIDES.find((s) => s === sideText);
  if (metric === undefined || side === undefined || (dir !== "asc" && dir !== "desc")) return DEFAULT_SORT;
  return { metric, side, descending: dir === "desc" };
}

function decodeAblation(value: string): AblationChoice | null {
  const at = value.lastIndexOf(SEP);
  if (at < 0) return value ? { nodeId: value, value: "zero" } : null;
  const nodeId = value.slice(0, at);
  const [kindText = "", constantText = null] = value.slice(at + 1).split(":");
  const kind = ABLATION_VALUES.find((v) => v === kindText);
  if (!nodeId || kind === undefined) return null;
  if (kind !== "constant") return constantText === null ? { nodeId, value: kind } : null;
  const constant = parseConstant(constantText);
  return constant === null ? null : { nodeId, value: kind, constant };
}

function encodeAblation(a: AblationChoice): string {
  if (a.value === "zero") return a.nodeId;
  if (a.value === "constant") return `${a.nodeId}${SEP}constant:${a.constant ?? 0}`;
  return `${a.nodeId}${SEP}${a.value}`;
}

function decodeSteer(value: string): SteerChoice | null {
  const at = value.lastIndexOf(SEP);
  if (at <= 0) return null;
  const strength = parseStrength(value.slice(at + 1));
  return strength === null ? null : { nodeId: value.slice(0, at), strength };
}

function decodeTrace(value: string | null): TraceChoice | null {
  if (value === null) return null;
  const at = value.indexOf(SEP);
  if (at < 0) return null;
  const kind = TRACE_KINDS.find((k) => k === value.slice(0, at));
  const nodeId = value.slice(at + 1);
  if (!nodeId || kind === undefined) return null;
  return { kind, nodeId };
}

/** Keeps at least one (possibly empty) input, as the form always shows one. */
function tokenList(values: string[]): string[] {
  return values.length > 0 ? values : [""];
}

export function encodeState(state: DebuggerState): URLSearchParams {
  const params = new URLSearchParams();
  if (state.prompt) params.set("prompt", state.prompt);
  for (const t of state.targets) if (t) params.append("t", t);
  for (const d of state.distractors) if (d) params.append("d", d);
  if (state.mlp !== DEFAULT_STATE.mlp) params.set("mlp", state.mlp);
  if (state.attn !== DEFAULT_STATE.attn) params.set("attn", state.attn);
  if (state.embeddings !== DEFAULT_STATE.embeddings) params.set("emb", state.embeddings ? "1" : "0");
  if (state.k !== DEFAULT_STATE.k) params.set("k", String(state.k));
  for (const a of state.ablations) params.append("ablate", encodeAblation(a));
  if (state.trace) params.set("trace", `${state.trace.kind}${SEP}${state.trace.nodeId}`);
  if (state.comparePrompt !== null) params.set("compare", state.comparePrompt);
  if (state.verify !== DEFAULT_STATE.verify) params.set("verify", String(state.verify));
  if (state.rankOn !== DEFAULT_STATE.rankOn) params.set("rank", state.rankOn);
  const sort = encodeSort(state.sort);
  if (sort !== encodeSort(DEFAULT_SORT)) params.set("sort", sort);
  if (state.filter) params.set("filter", state.filter);
  if (state.position !== null) params.set("pos", String(state.position));
  if (state.lens) params.set("lens", "1");
  for (const s of state.steer) params.append("steer", `${s.nodeId}${SEP}${s.strength}`);
  return params;
}

export function decodeState(params: URLSearchParams): DebuggerState {
  const ablations: AblationChoice[] = [];
  for (const value of params.getAll("ablate")) {
    const a = decodeAblation(value);
    if (a && !ablations.some((b) => b.nodeId === a.nodeId)) ablations.push(a);
  }
  const steer: SteerChoice[] = [];
  for (const value of params.getAll("steer")) {
    const s = decodeSteer(value);
    if (s && !steer.some((t) => t.nodeId === s.nodeId)) steer.push(s);
  }
  const emb = params.get("emb");
  const pos = intIn(params.get("pos"), 0, POSITION_MAX, -1);
  return {
    prompt: params.get("prompt") ?? "",
    targets: tokenList(params.getAll("t").filter((t) => t !== "")),
    distractors: tokenList(params.getAll("d").filter((d) => d !== "")),
    mlp: oneOf(params.get("mlp"), ["neurons", "latents"] as const, DEFAULT_STATE.mlp),
    attn: oneOf(params.get("attn"), ["heads", "latents"] as const, DEFAULT_STATE.attn),
    embeddings: emb === null ? DEFAULT_STATE.embeddings : emb === "1",
    k: intIn(params.get("k"), K_MIN, K_MAX, DEFAULT_STATE.k),
    ablations,
    trace: decodeTrace(params.get("trace")),
    comparePrompt: params.get("compare"),
    verify: intIn(params.get("verify"), VERIFY_RANGE.min, VERIFY_MAX, DEFAULT_STATE.verify),
    rankOn: oneOf(params.get("rank"), RANK_ON, DEFAULT_STATE.rankOn),
    sort: decodeSort(params.get("sort")),
    filter: params.get("filter") ?? "",
    position: pos < 0 ? null : pos,
    lens: params.get("lens") === "1",
    steer,
  };
}

/** The debugger URL of a state (path plus query). */
export function debuggerUrl(state: Partial<DebuggerState>): string {
  const query = encodeState({ ...DEFAULT_STATE, ...state }).toString();
  return query ? `/debugger?${query}` : "/debugger";
}

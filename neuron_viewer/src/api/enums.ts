/** The server's enumerations, as the generated schema types them, and a compile-time check that a
 * UI list of choices names every member. Each list is written
 *
 *   export const TRACE_KINDS = [...] as const satisfies readonly TraceKind[];
 *   export type TraceKindsCovered = Exhaustive<Covers<TraceKind, typeof TRACE_KINDS>>;
 *
 * `satisfies` refuses a value the server does not know; `Exhaustive` refuses a list that misses
 * one the server added (the error names it), so the UI cannot fall behind the schema silently. */
import type { Schemas } from "./client";
import type { operations } from "./generated/schema";

/** a node family, as node ids and node rows carry it */
export type NodeFamily = NonNullable<Schemas["NodeOut"]["family"]>;
/** a family with components of its own (pages, records, specs): all but the embeddings */
export type ComponentFamily = NonNullable<Schemas["ComponentSpec"]["family"]>;
/** what a debugger run may list: a family, or the latents on MLP or on attention sites */
export type Selection = NonNullable<Schemas["DebuggerRun"]["families"]>[number];
export type TraceKind = NonNullable<Schemas["TraceSpec"]["kind"]>;
export type AblationValue = NonNullable<Schemas["NodeAblation"]["value"]>;
/** which run of two picks the listed nodes */
export type RankOn = NonNullable<Schemas["DebuggerRun"]["rankOn"]>;
/** the statistic a layer summary ranks components by */
export type SummaryBy = NonNullable<NonNullable<operations["datasets-read_summary"]["parameters"]["query"]>["by"]>;

/** `true` when `List` names every member of `Union`, else the members it misses. */
export type Covers<Union, List extends readonly Union[]> = [Exclude<Union, List[number]>] extends [never]
  ? true
  : { missing: Exclude<Union, List[number]> };

/** Compiles only when its argument is `true`: wrap a `Covers` in it. */
export type Exhaustive<Check extends true> = Check;

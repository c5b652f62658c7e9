/** The server's bounds on request fields, read from its OpenAPI document (generated from the
 * pydantic schemas by `npm run generate-api`), so the UI's inputs and URL decoding accept what
 * the server accepts and nothing else. A bound the UI relies on and the schema no longer states
 * throws when this module loads: a schema change cannot drop one silently.
 *
 * Only `components` is imported, so the bundle leaves the document's `paths` out. */
import { components } from "./generated/openapi.json";
import type { Schemas } from "./client";

export type BoundKind = "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "minItems" | "maxItems";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `kind` of `schema.property` in the OpenAPI document. Optional fields (`X | None`) state their
 * bounds on the non-null branch of an `anyOf`. Throws when the document has no such bound. */
export function schemaBound<S extends keyof Schemas>(
  schema: S,
  property: keyof Schemas[S] & string,
  kind: BoundKind,
): number {
  const schemas: unknown = components.schemas;
  const fields = isRecord(schemas) && isRecord(schemas[schema]) ? schemas[schema].properties : undefined;
  const field = isRecord(fields) ? fields[property] : undefined;
  const anyOf: unknown = isRecord(field) ? field.anyOf : undefined;
  const branches: unknown[] = [field, ...(Array.isArray(anyOf) ? (anyOf as unknown[]) : [])];
  for (const branch of branches) {
    const value: unknown = isRecord(branch) ? branch[kind] : undefined;
    if (typeof value === "number") return value;
  }
  throw new Error(
    `The server's schema gives no ${kind} for ${schema}.${property} (src/api/generated/openapi.json); ` +
      "run `npm run generate-api`, or update src/api/bounds.ts if the server dropped the bound",
  );
}

/** The inclusive range of a numeric field. */
export interface Range {
  min: number;
  max: number;
}

function range<S extends keyof Schemas>(schema: S, property: keyof Schemas[S] & string): Range {
  return { min: schemaBound(schema, property, "minimum"), max: schemaBound(schema, property, "maximum") };
}

/** top/bottom k of a debugger run */
export const K_RANGE = range("DebuggerRun", "k");
/** how many nodes a run verifies (0: none) */
export const VERIFY_RANGE = range("DebuggerRun", "verify");
/** the token whose next token is explained (negative: from the end) */
export const POSITION_RANGE = range("DebuggerRun", "position");
/** an ablation's constant */
export const CONSTANT_RANGE = range("NodeAblation", "constant");
/** a steering strength */
export const STRENGTH_RANGE = range("Intervention", "strength");
/** how many targets, and how many distractors, a run takes */
export const TARGETS_MAX = schemaBound("DebuggerRun", "targets", "maxItems");
export const DISTRACTORS_MAX = schemaBound("DebuggerRun", "distractors", "maxItems");
/** sampling: new tokens per sample, and the temperature */
export const MAX_NEW_TOKENS_RANGE = range("SamplingRequest", "maxNewTokens");
export const TEMPERATURE_RANGE = range("SamplingRequest", "temperature");

/** The typed API client: openapi-fetch over the generated schema (`npm run generate-api`).
 * Every call goes through `unwrap`, so a refusal becomes an `ApiError` carrying the server's
 * own message (the `detail` of its ErrorResponse), shown verbatim by the UI. */
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema";

export type Schemas = components["schemas"];

export const api = createClient<paths>({ baseUrl: "" });

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

function detailOf(error: unknown): string | null {
  if (typeof error === "object" && error !== null && "detail" in error) {
    const { detail } = error;
    if (typeof detail === "string") return detail;
    return JSON.stringify(detail);
  }
  if (typeof error === "string" && error !== "") return error;
  return null;
}

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The response body of a successful call; otherwise throws an ApiError with the server's
 * message. Network failures (server down) reject in fetch itself and are rewritten to say so. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await call;
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new ApiError(0, `Cannot reach the server (${reason}). Is \`tdb serve\` running?`);
  }
  const { data, error, response } = result;
  if (response.ok && data !== undefined) return data;
  const detail = detailOf(error) ?? `${response.status} ${response.statusText}`.trim();
  throw new ApiError(response.status, detail);
}

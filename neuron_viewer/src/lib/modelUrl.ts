/** The served model in the URL: `?model=NAME` on every page (absent: the server's default
 * model). Every API call passes it on, links between pages keep it, and switching models
 * keeps the page but drops what names nodes of the old model. */
import { DEFAULT_STATE, debuggerUrl, decodeState } from "./urlState";

export const MODEL_PARAM = "model";

/** The model named by search parameters, or null for the server's default. */
export function modelFromParams(params: URLSearchParams): string | null {
  const model = params.get(MODEL_PARAM);
  return model === null || model === "" ? null : model;
}

/** `params` with the model set (null: removed), as a new object. */
export function paramsWithModel(params: URLSearchParams, model: string | null): URLSearchParams {
  const next = new URLSearchParams(params);
  if (model === null) next.delete(MODEL_PARAM);
  else next.set(MODEL_PARAM, model);
  return next;
}

/** A link target (`/path?query#hash`) with the model set (null: removed). */
export function withModel(to: string, model: string | null): string {
  const hashAt = to.indexOf("#");
  const hash = hashAt < 0 ? "" : to.slice(hashAt);
  const rest = hashAt < 0 ? to : to.slice(0, hashAt);
  const queryAt = rest.indexOf("?");
  const path = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const params = paramsWithModel(new URLSearchParams(queryAt < 0 ? "" : rest.slice(queryAt)), model);
  const query = params.toString();
  return `${path}${query ? `?${query}` : ""}${hash}`;
}

/** Where switching to `model` goes from the page at `pathname` + `search`: the same page with
 * the new model (left out when it is the default), without state that names nodes, sites or
 * token positions of the old model. The debugger keeps its question (prompt, targets,
 * distractors, compare prompt, k); a component page, whose component is the old model's, goes
 * to the new model's home page. */
export function switchModelUrl(pathname: string, search: string, model: string, defaultModel: string): string {
  const chosen = model === defaultModel ? null : model;
  if (pathname === "/debugger") {
    const { prompt, targets, distractors, comparePrompt, k } = decodeState(new URLSearchParams(search));
    return withModel(debuggerUrl({ ...DEFAULT_STATE, prompt, targets, distractors, comparePrompt, k }), chosen);
  }
  const page = pathname.startsWith("/component/") ? "/" : pathname;
  return withModel(page, chosen);
}

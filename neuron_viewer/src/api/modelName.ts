/** The model of the page, from the URL (`?model=NAME`; null: the server's default). Every query
 * hook passes it to the server and keys its cache with it, so answers of two models never mix. */
import { useCallback } from "react";
import { useSearchParams } from "react-router-dom";
import { modelFromParams, withModel } from "../lib/modelUrl";

export function useModelName(): string | null {
  const [params] = useSearchParams();
  return modelFromParams(params);
}

/** The `model` query parameter of an API call (undefined: the server's default). */
export function useModelQuery(): { model?: string } {
  const model = useModelName();
  return model === null ? {} : { model };
}

/** Link targets of this page's model: `to` with `?model=` as in the current URL. */
export function useModelPath(): (to: string) => string {
  const model = useModelName();
  return useCallback((to: string) => withModel(to, model), [model]);
}

/** Query hooks: every request of the UI, cached by react-query under a key of its inputs.
 * Each passes the page's model (`?model=` in the URL, `useModelQuery`) and has it in its key. */
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "./client";
import type { SummaryBy } from "./enums";
import { useModelQuery } from "./modelName";

export type ModelInfo = Schemas["ModelInfo"];
export type { SummaryBy };
export type ComponentSpec = Schemas["ComponentSpec"];

const COLLATING_POLL_MS = 15_000;

export function useModelInfo() {
  const query = useModelQuery();
  return useQuery({
    queryKey: ["model", query],
    queryFn: ({ signal }) => unwrap(api.GET("/api/model", { params: { query }, signal })),
    staleTime: Infinity,
    // While the datasets are being collated, ask again: pages that need them fill in when done.
    refetchInterval: (query) => (query.state.data?.dataset.collating === true ? COLLATING_POLL_MS : false),
  });
}

/** The models the server serves (the switcher's list); the same for every page's model. */
export function useServedModels() {
  return useQuery({
    queryKey: ["models"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/models", { signal })),
    staleTime: 60_000,
  });
}

export function useInvestigations() {
  const query = useModelQuery();
  return useQuery({
    queryKey: ["investigations", query],
    queryFn: ({ signal }) => unwrap(api.GET("/api/investigations", { params: { query }, signal })),
    staleTime: Infinity,
  });
}

/** Token ids and strings of a text; disabled for the empty string. */
export function useTokenize(text: string) {
  const query = useModelQuery();
  return useQuery({
    queryKey: ["tokenize", query, text],
    queryFn: ({ signal }) => unwrap(api.POST("/api/model/tokenize", { params: { query }, body: { text }, signal })),
    enabled: text !== "",
    staleTime: Infinity,
  });
}

/** One debugger run (null: not asked yet). A query, not a mutation: the same URL state gives
 * the same cached result, and reloading the page repeats it. */
export function useDebuggerRun(run: Schemas["DebuggerRun"] | null) {
  const query = useModelQuery();
  return useQuery({
    queryKey: ["debugger", query, run],
    queryFn: async ({ signal }) => {
      if (run === null) throw new Error("no run");
      const response = await unwrap(
        api.POST("/api/debugger/attribute", { params: { query }, body: { runs: [run] }, signal }),
      );
      const [result] = response.runs;
      if (result === undefined) throw new Error("The server answered with no run");
      return result;
    },
    enabled: run !== null,
    placeholderData: keepPreviousData,
  });
}

export function useComponentRecord(family: ComponentSpec["family"], layer: string, index: number) {
  const query = useModelQuery();
  return useQuery({
    queryKey: ["record", query, family, layer, index],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/datasets/records/{family}/{layer}/{index}", {
          params: { path: { family, layer, index }, query },
          signal,
        }),
      ),
    staleTime: Infinity,
  });
}

export function useLayerSummary(
  family: ComponentSpec["family"],
  layer: string,
  by: SummaryBy,
  limit: number,
  enabled: boolean,
) {
  const model = useModelQuery();
  return useQuery({
    queryKey: ["summary", model, family, layer, by, limit],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/datasets/summaries/{family}/{layer}", {
          params: {
            path: { family, layer },
            query: { by, limit, ...model },
          },
          signal,
        }),
      ),
    enabled,
    staleTime: Infinity,
  });
}

/** A component's activations on the user's text (empty text: not asked). */
export function useActivations(component: ComponentSpec, prompt: string) {
  const query = useModelQuery();
  return useQuery({
    queryKey: ["activations", query, component, prompt],
    queryFn: ({ signal }) =>
      unwrap(api.POST("/api/activations", { params: { query }, body: { prompt, component }, signal })),
    enabled: prompt !== "",
    staleTime: Infinity,
  });
}

export function useSampling() {
  const query = useModelQuery();
  return useMutation({
    mutationFn: (body: Schemas["SamplingRequest"]) => unwrap(api.POST("/api/sampling", { params: { query }, body })),
  });
}

/** The logit lens (null or disabled: not asked); cached like a debugger run. */
export function useLogitLens(request: Schemas["LogitLensRequest"] | null, enabled: boolean) {
  const query = useModelQuery();
  return useQuery({
    queryKey: ["logit-lens", query, request],
    queryFn: ({ signal }) => {
      if (request === null) throw new Error("no request");
      return unwrap(api.POST("/api/debugger/logit-lens", { params: { query }, body: request, signal }));
    },
    enabled: enabled && request !== null,
    staleTime: Infinity,
  });
}

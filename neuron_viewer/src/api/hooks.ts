/** Query hooks: every request of the UI, cached by react-query under a key of its inputs. */
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "./client";
import type { operations } from "./generated/schema";

export type ModelInfo = Schemas["ModelInfo"];
export type SummaryBy = NonNullable<
  NonNullable<operations["datasets-read_summary"]["parameters"]["query"]>["by"]
>;
export type ComponentSpec = Schemas["ComponentSpec"];

const COLLATING_POLL_MS = 15_000;

export function useModelInfo() {
  return useQuery({
    queryKey: ["model"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/model", { signal })),
    staleTime: Infinity,
    // While the datasets are being collated, ask again: pages that need them fill in when done.
    refetchInterval: (query) => (query.state.data?.dataset.collating === true ? COLLATING_POLL_MS : false),
  });
}

export function useInvestigations() {
  return useQuery({
    queryKey: ["investigations"],
    queryFn: ({ signal }) => unwrap(api.GET("/api/investigations", { signal })),
    staleTime: Infinity,
  });
}

/** Token ids and strings of a text; disabled for the empty string. */
export function useTokenize(text: string) {
  return useQuery({
    queryKey: ["tokenize", text],
    queryFn: ({ signal }) => unwrap(api.POST("/api/model/tokenize", { body: { text }, signal })),
    enabled: text !== "",
    staleTime: Infinity,
  });
}

/** One debugger run (null: not asked yet). A query, not a mutation: the same URL state gives
 * the same cached result, and reloading the page repeats it. */
export function useDebuggerRun(run: Schemas["DebuggerRun"] | null) {
  return useQuery({
    queryKey: ["debugger", run],
    queryFn: async ({ signal }) => {
      if (run === null) throw new Error("no run");
      const response = await unwrap(
        api.POST("/api/debugger/attribute", { body: { runs: [run] }, signal }),
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
  return useQuery({
    queryKey: ["record", family, layer, index],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/datasets/records/{family}/{layer}/{index}", {
          params: { path: { family, layer, index } },
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
  return useQuery({
    queryKey: ["summary", family, layer, by, limit],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/datasets/summaries/{family}/{layer}", {
          params: {
            path: { family, layer },
            query: { by, limit },
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
  return useQuery({
    queryKey: ["activations", component, prompt],
    queryFn: ({ signal }) =>
      unwrap(api.POST("/api/activations", { body: { prompt, component }, signal })),
    enabled: prompt !== "",
    staleTime: Infinity,
  });
}

export function useSampling() {
  return useMutation({
    mutationFn: (body: Schemas["SamplingRequest"]) => unwrap(api.POST("/api/sampling", { body })),
  });
}

/** The logit lens (null or disabled: not asked); cached like a debugger run. */
export function useLogitLens(request: Schemas["LogitLensRequest"] | null, enabled: boolean) {
  return useQuery({
    queryKey: ["logit-lens", request],
    queryFn: ({ signal }) => {
      if (request === null) throw new Error("no request");
      return unwrap(api.POST("/api/debugger/logit-lens", { body: request, signal }));
    },
    enabled: enabled && request !== null,
    staleTime: Infinity,
  });
}

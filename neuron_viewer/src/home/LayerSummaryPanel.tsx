import { useEffect, useRef, useState } from "react";
import { useLocation, useSearchParams } from "react-router-dom";
import { ModelLink } from "../lib/ModelLink";
import type { Covers, Exhaustive, SummaryBy } from "../api/enums";
import { useLayerSummary, type ModelInfo } from "../api/hooks";
import { formatValue } from "../lib/format";
import { autoencoderSite, componentLabel, componentPath, type ComponentId } from "../lib/nodes";
import { QueryStatus } from "../lib/QueryStatus";

/** the statistics a layer summary ranks by, in column order */
const BY = ["kurtosis", "max", "density", "mean", "variance", "skew"] as const satisfies readonly SummaryBy[];
export type ByCovered = Exhaustive<Covers<SummaryBy, typeof BY>>;
type By = SummaryBy;
type Group = NonNullable<ModelInfo["dataset"]["groups"]>[number];

function groupLabel(g: Group): string {
  return `${g.family} ${g.layer === null ? "" : `L${g.layer} `}(${g.site}, ${g.nComponents})`;
}

function componentIn(group: Group, index: number): ComponentId {
  if (group.family === "latent") {
    return { family: "latent", layer: group.layer, site: autoencoderSite(group.site), index };
  }
  return { family: group.family === "head" ? "head" : "neuron", layer: group.layer, site: null, index };
}

/** A layer's components ranked by a statistic of their collated activations. The group is in
 * the URL (`?summary=SITE#layer-summary`), so other pages (the architecture diagram) link to it. */
export function LayerSummaryPanel({ info }: { info: ModelInfo }) {
  const groups = info.dataset.groups ?? [];
  const [params, setParams] = useSearchParams();
  const asked = groups.findIndex((g) => g.site === params.get("summary"));
  const groupKey = Math.max(asked, 0);
  const [by, setBy] = useState<By>("kurtosis");
  const group = groups[groupKey];
  const section = useRef<HTMLElement>(null);
  const { hash } = useLocation();
  useEffect(() => {
    if (hash === "#layer-summary") section.current?.scrollIntoView();
  }, [hash]);

  function chooseGroup(key: number) {
    const next = new URLSearchParams(params);
    next.set("summary", groups[key]?.site ?? "");
    setParams(next, { replace: true });
  }
  const family = group?.family === "head" ? "head" : group?.family === "latent" ? "latent" : "neuron";
  const query = useLayerSummary(family, group?.site ?? "", by, 15, info.dataset.available && group !== undefined);

  return (
    <section className="panel" id="layer-summary" ref={section} aria-labelledby="summary-heading">
      <h2 id="summary-heading">Layer summary</h2>
      {!info.dataset.available || group === undefined ? (
        <p className="muted">Needs a collated dataset: {info.dataset.message ?? "none"}</p>
      ) : (
        <>
          <div className="row">
            <label htmlFor="summary-group">Group</label>
            <select id="summary-group" value={groupKey} onChange={(e) => chooseGroup(Number(e.target.value))}>
              {groups.map((g, i) => (
                <option key={g.site} value={i}>
                  {groupLabel(g)}
                </option>
              ))}
            </select>
            <label htmlFor="summary-by">ranked by</label>
            <select id="summary-by" value={by} onChange={(e) => setBy(e.target.value as By)}>
              {BY.map((b) => (
                <option key={b}>{b}</option>
              ))}
            </select>
          </div>
          <QueryStatus isPending={query.isPending} error={query.error} what="the layer summary">
            <table className="data" aria-label="Layer summary">
              <thead>
                <tr>
                  <th>component</th>
                  {BY.map((b) => (
                    <th key={b} className="num">
                      {b}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {query.data?.rows.map((r) => {
                  const c = componentIn(group, r.index);
                  return (
                    <tr key={r.index}>
                      <td>
                        <ModelLink to={componentPath(c)}>{componentLabel(c)}</ModelLink>
                      </td>
                      {BY.map((b) => (
                        <td key={b} className="num">
                          {formatValue(r[b])}
                        </td>
                      ))}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </QueryStatus>
        </>
      )}
    </section>
  );
}

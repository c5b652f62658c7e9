/** A component's page: what does this neuron, head or latent do? */
import { useParams, useSearchParams } from "react-router-dom";
import { ModelLink } from "../lib/ModelLink";
import { useComponentRecord, useModelInfo, type ComponentSpec } from "../api/hooks";
import { componentLabel, LATENT_SUFFIX, parseComponentPath, type ComponentId } from "../lib/nodes";
import { QueryStatus } from "../lib/QueryStatus";
import { ComponentNav } from "./ComponentNav";
import { LogitTables } from "./LogitTables";
import { MeasureView } from "./MeasureView";
import { MyTextPanel } from "./MyTextPanel";

function specOf(c: ComponentId): ComponentSpec {
  return c.family === "latent"
    ? { family: "latent", site: c.site, index: c.index }
    : { family: c.family, layer: c.layer, index: c.index };
}

function Record({ component }: { component: ComponentId }) {
  const [params, setParams] = useSearchParams();
  const layerKey = component.family === "latent" ? `${component.site ?? ""}${LATENT_SUFFIX}` : String(component.layer);
  const query = useComponentRecord(component.family, layerKey, component.index);
  const measures = Object.keys(query.data?.measures ?? {});
  const asked = params.get("measure");
  const chosen = asked !== null && measures.includes(asked) ? asked : (measures[0] ?? "");
  const measure = query.data?.measures[chosen];
  return (
    <QueryStatus isPending={query.isPending} error={query.error} what="the collated dataset record">
      {measures.length > 1 && (
        <div className="row" role="group" aria-label="Measure">
          <span>Measure:</span>
          <div className="segmented">
            {measures.map((m) => (
              <button
                key={m}
                type="button"
                aria-pressed={m === chosen}
                onClick={() => {
                  const next = new URLSearchParams(params);
                  next.set("measure", m);
                  setParams(next, { replace: true });
                }}
              >
                {m.replace("_", " ")}
              </button>
            ))}
          </div>
        </div>
      )}
      {measure ? <MeasureView measure={measure} /> : <p className="error-text">No measure {chosen}.</p>}
      <section className="panel" aria-labelledby="logits-heading">
        <h2 id="logits-heading">Logit effects</h2>
        <LogitTables logits={query.data?.logits} />
      </section>
    </QueryStatus>
  );
}

export function ComponentPage() {
  const { family, where, index } = useParams();
  const component = parseComponentPath(family, where, index);
  const info = useModelInfo();
  if (component === null) {
    return (
      <main className="page">
        <h1>Unknown component</h1>
        <p className="error-text" role="alert">
          Component pages are /component/neuron/LAYER/INDEX, /component/head/LAYER/INDEX or
          /component/latent/SITE/INDEX. <ModelLink to="/">Home</ModelLink>
        </p>
      </main>
    );
  }
  return (
    <main className="page" key={`${component.family}/${where ?? ""}/${component.index}`}>
      <h1>
        {componentLabel(component)} <span className="muted small">{component.family}</span>
      </h1>
      {info.data && <ComponentNav info={info.data} component={component} />}
      {info.error && <QueryStatus isPending={false} error={info.error} what="the model" />}
      {info.data?.dataset.available === false ? (
        // No request that is bound to fail: the model info already says why there is no record.
        info.data.dataset.collating ? (
          <div className="status loading" role="status">
            <strong>Collating:</strong> {info.data.dataset.message} This page fills in by itself.
          </div>
        ) : (
          <div className="status error" role="alert">
            <strong>No collated dataset:</strong> {info.data.dataset.message ?? "the server has none"}
          </div>
        )
      ) : (
        info.data && <Record component={component} />
      )}
      <MyTextPanel spec={specOf(component)} />
    </main>
  );
}

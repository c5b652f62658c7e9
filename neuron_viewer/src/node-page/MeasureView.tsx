/** One measure of a component's collated record: statistics, histogram, top examples,
 * quantile samples and random samples. */
import type { Schemas } from "../api/client";
import { maxAbs } from "../lib/colorScale";
import { formatValue } from "../lib/format";
import { ExampleList } from "./ExampleList";
import { Histogram } from "./Histogram";
import { StatsTable } from "./StatsTable";

export function MeasureView({ measure }: { measure: Schemas["Measure"] }) {
  // One colour scale for every example on the page: the largest |value| in any of them, so
  // components that are mostly negative (a GELU's floor) are coloured honestly too.
  const examples = [...measure.top, ...measure.quantiles.flatMap((q) => q.examples), ...measure.random];
  const scale = maxAbs([measure.stats.max, ...examples.flatMap((e) => e.activations)]);
  return (
    <>
      <div className="grid-2">
        <section className="panel" aria-labelledby="stats-heading">
          <h2 id="stats-heading">Statistics</h2>
          <StatsTable stats={measure.stats} />
        </section>
        <section className="panel" aria-labelledby="hist-heading">
          <h2 id="hist-heading">Histogram</h2>
          <Histogram histogram={measure.histogram} max={measure.stats.max} />
        </section>
      </div>
      <section className="panel" aria-labelledby="top-heading">
        <h2 id="top-heading">Top-activating examples</h2>
        <ExampleList examples={measure.top} scale={scale} empty="Never active on the collated tokens." />
      </section>
      <section className="panel" aria-labelledby="quantile-heading">
        <h2 id="quantile-heading">Quantile samples</h2>
        <p className="muted small">Samples of each tenth of the positive values, highest first.</p>
        {measure.quantiles.length === 0 && <p className="muted">No positive values.</p>}
        {[...measure.quantiles].reverse().map((q) => (
          <details key={q.quantile}>
            <summary>
              decile {q.quantile + 1}: {formatValue(q.low)} to {formatValue(q.high)}
            </summary>
            <ExampleList examples={q.examples} scale={scale} />
          </details>
        ))}
      </section>
      <section className="panel" aria-labelledby="random-heading">
        <h2 id="random-heading">Random samples</h2>
        <ExampleList examples={measure.random} scale={scale} />
      </section>
    </>
  );
}

import type { Schemas } from "../api/client";
import { formatValue } from "../lib/format";
import { KeyValueTable } from "../lib/KeyValueTable";

export function StatsTable({ stats }: { stats: Schemas["Stats"] }) {
  const rows: [string, string][] = [
    ["nodes", stats.count.toLocaleString()],
    ["nonzero", stats.nonzero.toLocaleString()],
    ["density", stats.density === null ? "–" : `${(stats.density * 100).toFixed(2)}%`],
    ["max", formatValue(stats.max)],
    ["mean", formatValue(stats.mean)],
    ["variance", formatValue(stats.variance)],
    ["skew", formatValue(stats.skew)],
    ["excess kurtosis", formatValue(stats.kurtosis)],
  ];
  return <KeyValueTable label="Statistics" rows={rows} />;
}

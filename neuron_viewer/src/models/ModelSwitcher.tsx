/** The top bar's model: a switcher when the server serves several models (`/api/models`),
 * the model's name otherwise. Switching keeps the page and its question (`switchModelUrl`). */
import { useLocation, useNavigate } from "react-router-dom";
import { ApiError } from "../api/client";
import { useModelInfo, useServedModels } from "../api/hooks";
import { useModelName } from "../api/modelName";
import { switchModelUrl } from "../lib/modelUrl";

function ModelBadge() {
  const info = useModelInfo();
  if (info.isPending) return <span className="muted">loading model…</span>;
  if (info.isError) {
    const unreachable = !(info.error instanceof ApiError) || info.error.status === 0;
    return (
      <span className="error-text" title={info.error.message}>
        {unreachable ? "server unreachable" : info.error.message}
      </span>
    );
  }
  return (
    <span className="muted" title={info.data.description} data-testid="model-badge">
      model: {info.data.name}
    </span>
  );
}

export function ModelSwitcher() {
  const served = useServedModels().data?.models ?? [];
  const asked = useModelName();
  const navigate = useNavigate();
  const { pathname, search } = useLocation();
  const fallback = served.find((m) => m.default)?.name;
  if (served.length < 2 || fallback === undefined) return <ModelBadge />;
  const current = asked ?? fallback;
  return (
    <span className="row">
      <label>
        Model{" "}
        <select
          aria-label="Model"
          value={current}
          onChange={(e) => void navigate(switchModelUrl(pathname, search, e.target.value, fallback))}
        >
          {served.map((m) => (
            <option key={m.name} value={m.name} title={m.description}>
              {m.name}
              {m.default ? " (default)" : ""}
              {m.datasetAvailable ? "" : " (no datasets)"}
            </option>
          ))}
          {served.some((m) => m.name === current) ? null : <option value={current}>{current} (not served)</option>}
        </select>
      </label>
      <ModelBadge />
    </span>
  );
}

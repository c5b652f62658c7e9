import { ModelLink } from "../lib/ModelLink";
import { useInvestigations } from "../api/hooks";
import { visibleToken } from "../lib/format";
import { QueryStatus } from "../lib/QueryStatus";
import { debuggerUrl } from "../lib/urlState";

export function InvestigationList() {
  const query = useInvestigations();
  const list = query.data?.investigations ?? [];
  return (
    <section className="panel" aria-labelledby="investigations-heading">
      <h2 id="investigations-heading">Start an investigation</h2>
      <p className="muted small">
        Prompts on which the model prefers the target to the distractor by a wide margin. One click
        opens the debugger.
      </p>
      <QueryStatus isPending={query.isPending} error={query.error} what="investigations">
        {list.length === 0 ? (
          <p className="muted">No default investigations for this model.</p>
        ) : (
          <ul className="stack" style={{ listStyle: "none", padding: 0 }} aria-label="Default investigations">
            {list.map((inv) => (
              <li key={inv.id}>
                <ModelLink
                  to={debuggerUrl({ prompt: inv.prompt, targets: inv.targets, distractors: inv.distractors })}
                  data-testid="investigation-link"
                >
                  {inv.title}
                </ModelLink>{" "}
                <code className="small">{visibleToken(inv.prompt)}</code>{" "}
                <span className="muted small">logit diff {inv.logitDiff.toFixed(2)}</span>
              </li>
            ))}
          </ul>
        )}
      </QueryStatus>
    </section>
  );
}

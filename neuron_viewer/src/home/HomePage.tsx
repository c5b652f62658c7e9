import { ModelLink } from "../lib/ModelLink";
import { useModelInfo } from "../api/hooks";
import { QueryStatus } from "../lib/QueryStatus";
import { InvestigationList } from "./InvestigationList";
import { JumpBox } from "./JumpBox";
import { LayerSummaryPanel } from "./LayerSummaryPanel";
import { ModelInfoPanel } from "./ModelInfoPanel";

export function HomePage() {
  const info = useModelInfo();
  return (
    <main className="page home">
      <h1>Transformer Debugger</h1>
      <p className="muted">
        Why does the model say token A and not token B? Pick an investigation, or open the debugger
        with your own prompt.
      </p>
      <div className="grid-2">
        <div>
          <InvestigationList />
          {info.data && <JumpBox info={info.data} />}
        </div>
        <div>
          <QueryStatus isPending={info.isPending} error={info.error} what="the model">
            {info.data && <ModelInfoPanel info={info.data} />}
            <p>
              <ModelLink to="/architecture">See the architecture diagram</ModelLink>: every layer's heads, MLP
              and autoencoders.
            </p>
          </QueryStatus>
        </div>
      </div>
      {info.data && <LayerSummaryPanel info={info.data} />}
    </main>
  );
}

/** Dataset examples: each window's tokens coloured by the component's value there (for heads,
 * the query row: attention from the example's query token to each token), hover for values. */
import type { Schemas } from "../api/client";
import { formatValue, visibleToken } from "../lib/format";
import { TokenText } from "../lib/TokenText";

type Example = Schemas["Example"];

function ExampleRow({ example, scale }: { example: Example; scale: number }) {
  const strings = example.strings ?? example.tokens.map((t) => `#${t}`);
  return (
    <div className="example" data-testid="example">
      <span className="value">{formatValue(example.value)}</span>
      <TokenText strings={strings} values={example.activations} scale={scale} focus={example.position} />
      {example.keyDistance !== null && example.keyDistance !== undefined && (
        <span className="muted small">
          {" "}
          key {example.keyDistance} back: <code>{visibleToken(example.keyString ?? `#${example.keyToken ?? "?"}`)}</code>
        </span>
      )}
    </div>
  );
}

export function ExampleList({ examples, scale, empty }: { examples: Example[]; scale: number; empty?: string }) {
  if (examples.length === 0) return <p className="muted">{empty ?? "No examples."}</p>;
  return (
    <div>
      {examples.map((e) => (
        <ExampleRow key={`${e.id}-${e.value ?? ""}`} example={e} scale={scale} />
      ))}
    </div>
  );
}

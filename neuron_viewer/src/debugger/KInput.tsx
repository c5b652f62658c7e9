/** The top/bottom k input. Each k is a run, so typing "25" must not run k=2 first: a value
 * applies once typing pauses (K_SETTLE_MS), on Enter, or on leaving the field. */
import { useState } from "react";
import { useDebouncer } from "../lib/useDebounced";
import { K_MAX, K_MIN } from "../lib/urlState";

export const K_SETTLE_MS = 600;

/** k from the field's text, or null while it is not a whole number in bounds. */
export function parseK(text: string): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const k = Number(text);
  return k >= K_MIN && k <= K_MAX ? k : null;
}

export function KInput({ k, onChange }: { k: number; onChange: (k: number) => void }) {
  const [text, setText] = useState(String(k));
  // k changed elsewhere (a link, the back button): show it.
  const [shown, setShown] = useState(k);
  if (shown !== k) {
    setShown(k);
    setText(String(k));
  }
  const commit = useDebouncer((value: string) => {
    const parsed = parseK(value);
    if (parsed !== null && parsed !== k) onChange(parsed);
  }, K_SETTLE_MS);
  return (
    <>
      <label htmlFor="k">top/bottom k</label>
      <input
        id="k"
        type="number"
        min={K_MIN}
        max={K_MAX}
        value={text}
        aria-invalid={parseK(text) === null}
        title={`${K_MIN} to ${K_MAX}; applies when you pause, press Enter or leave the field`}
        onChange={(e) => {
          setText(e.target.value);
          commit.push(e.target.value);
        }}
        onBlur={() => commit.flush()}
        onKeyDown={(e) => {
          if (e.key !== "Enter") return;
          e.preventDefault(); // Enter applies k; it does not also press Run
          commit.flush();
        }}
      />
    </>
  );
}

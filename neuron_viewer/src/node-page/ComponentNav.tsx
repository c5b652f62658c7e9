/** Previous/next component and layer links, with keyboard shortcuts (← → components, [ ] layers)
 * that are ignored while typing in a form field. */
import { useEffect } from "react";
import { Link, useLocation, useNavigate } from "react-router-dom";
import type { ModelInfo } from "../api/hooks";
import { componentLabel, componentPath, type ComponentId } from "../lib/nodes";
import { neighbours } from "./neighbours";

const KEYS: Record<string, "prevIndex" | "nextIndex" | "prevLayer" | "nextLayer"> = {
  ArrowLeft: "prevIndex",
  ArrowRight: "nextIndex",
  "[": "prevLayer",
  "]": "nextLayer",
};

function typing(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

function Step({ to, label, shortcut, search }: { to: ComponentId | null; label: string; shortcut: string; search: string }) {
  if (to === null) {
    return <span className="muted">{label}</span>;
  }
  return (
    <Link to={componentPath(to) + search} title={`${componentLabel(to)} (key ${shortcut})`} aria-keyshortcuts={shortcut}>
      {label}
    </Link>
  );
}

export function ComponentNav({ info, component }: { info: ModelInfo; component: ComponentId }) {
  const n = neighbours(info, component);
  const navigate = useNavigate();
  // Stepping keeps ?text= (and the measure), to compare components on the same text.
  const { search } = useLocation();
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (e.altKey || e.ctrlKey || e.metaKey || typing(e.target)) return;
      const which = KEYS[e.key];
      const to = which === undefined ? null : n[which];
      if (to) {
        e.preventDefault();
        void navigate(componentPath(to) + search);
      }
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [n, navigate, search]);

  return (
    <nav className="row small" aria-label="Neighbouring components">
      <Step to={n.prevIndex} label="← previous" shortcut="ArrowLeft" search={search} />
      <Step to={n.nextIndex} label="next →" shortcut="ArrowRight" search={search} />
      <span className="muted">|</span>
      <Step to={n.prevLayer} label="[ layer below" shortcut="[" search={search} />
      <Step to={n.nextLayer} label="layer above ]" shortcut="]" search={search} />
      {n.size !== null && <span className="muted">({n.size} in this layer)</span>}
    </nav>
  );
}

/** The loading and error states every request shows; server messages appear verbatim. */
import type { ReactNode } from "react";

interface Props {
  isPending: boolean;
  error: Error | null;
  what: string;
  /** When the request has not been made (e.g. no prompt yet). */
  idle?: boolean;
  idleText?: ReactNode;
  children?: ReactNode;
}

export function ErrorBox({ error, what }: { error: Error; what: string }) {
  return (
    <div className="status error" role="alert">
      <strong>Could not load {what}:</strong> {error.message}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <div className="status loading" role="status" aria-live="polite">
      Loading {what}…
    </div>
  );
}

export function QueryStatus({ isPending, error, what, idle, idleText, children }: Props) {
  if (idle === true) return idleText === undefined ? null : <div className="status empty">{idleText}</div>;
  if (error !== null) return <ErrorBox error={error} what={what} />;
  if (isPending) return <Loading what={what} />;
  return <>{children}</>;
}

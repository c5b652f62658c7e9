import { useEffect, useRef, useState } from "react";

/** `value`, once it has not changed for `delayMs`. */
export function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

export interface Debouncer<T> {
  /** Calls back with `value` once nothing else is pushed for the delay. */
  push: (value: T) => void;
  /** Calls back at once with the value waiting, if any. */
  flush: () => void;
  /** Drops the value waiting. */
  cancel: () => void;
}

/** One call of `callback` for a burst of pushes (keystrokes), with the last value. */
export function debouncer<T>(callback: (value: T) => void, delayMs: number): Debouncer<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let waiting: { value: T } | undefined;
  const cancel = () => {
    clearTimeout(timer);
    timer = undefined;
    waiting = undefined;
  };
  const flush = () => {
    const held = waiting;
    cancel();
    if (held !== undefined) callback(held.value);
  };
  const push = (value: T) => {
    clearTimeout(timer);
    waiting = { value };
    timer = setTimeout(flush, delayMs);
  };
  return { push, flush, cancel };
}

/** A debouncer that calls the latest `callback` (props change between pushes); what waits when
 * the component goes away is dropped. Use it from event handlers. */
export function useDebouncer<T>(callback: (value: T) => void, delayMs: number): Debouncer<T> {
  const latest = useRef(callback);
  useEffect(() => {
    latest.current = callback;
  }, [callback]);
  const held = useRef<Debouncer<T> | null>(null);
  useEffect(() => () => held.current?.cancel(), []);
  const get = () => (held.current ??= debouncer<T>((value) => latest.current(value), delayMs));
  return {
    push: (value) => get().push(value),
    flush: () => get().flush(),
    cancel: () => held.current?.cancel(),
  };
}

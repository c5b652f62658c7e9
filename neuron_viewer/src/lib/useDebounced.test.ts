import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseK } from "../debugger/KInput";
import { debouncer } from "./useDebounced";

describe("debouncer", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("makes one call for a burst of keystrokes, with the last value", () => {
    const calls: string[] = [];
    const k = debouncer((v: string) => calls.push(v), 600);
    for (const text of ["2", "25", "2", "20"]) {
      k.push(text);
      vi.advanceTimersByTime(150); // typing speed
    }
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(600);
    expect(calls).toEqual(["20"]);
    vi.advanceTimersByTime(5000);
    expect(calls).toEqual(["20"]);
  });

  it("calls at once on flush (Enter, leaving the field), and never twice", () => {
    const calls: string[] = [];
    const k = debouncer((v: string) => calls.push(v), 600);
    k.push("1");
    k.push("15");
    k.flush();
    expect(calls).toEqual(["15"]);
    vi.advanceTimersByTime(1000);
    k.flush();
    expect(calls).toEqual(["15"]);
    k.push("7");
    k.cancel();
    vi.advanceTimersByTime(1000);
    expect(calls).toEqual(["15"]);
  });
});

describe("k input", () => {
  it("accepts whole numbers within bounds only", () => {
    expect(parseK("25")).toBe(25);
    expect(parseK(" 3 ")).toBe(3);
    for (const bad of ["", "0", "101", "2.5", "-1", "1e2", "x"]) expect(parseK(bad)).toBeNull();
  });
});

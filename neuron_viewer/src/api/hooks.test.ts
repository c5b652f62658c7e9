import { describe, expect, it } from "vitest";
import { ApiError } from "./client";
import { whileCollating } from "./hooks";

describe("whileCollating", () => {
  it("asks again every 15 s while the datasets are being collated (503)", () => {
    const collating = new ApiError(503, "being collated: 42%");
    expect(whileCollating({ state: { error: collating } })).toBe(15_000);
  });

  it("stops once answered, and on other errors", () => {
    expect(whileCollating({ state: { error: null } })).toBe(false);
    expect(whileCollating({ state: { error: new ApiError(404, "no store") } })).toBe(false);
    expect(whileCollating({ state: { error: new Error("network") } })).toBe(false);
  });
});

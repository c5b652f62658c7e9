/** The UI's node-id rules against the server's: nodeIds.fixture.json holds what the server's
 * `Node` makes of ids of every family and shape, and ids it refuses (regenerate it with
 * `.venv/bin/python -m tests.activations.node_id_fixture`; a pytest keeps it current). */
import { describe, expect, it } from "vitest";
import fixture from "./nodeIds.fixture.json";
import { FAMILIES, formatNodeId, parseNodeId, type Family } from "./nodes";

function familyOf(text: string): Family {
  const family = FAMILIES.find((f) => f === text);
  if (family === undefined) throw new Error(`The fixture names an unknown family ${text}`);
  return family;
}

describe("node ids, as the server makes them", () => {
  it.each(fixture.valid)("parses and formats $id", ({ id, ...fields }) => {
    expect(parseNodeId(id)).toEqual(fields);
    expect(formatNodeId({ ...fields, family: familyOf(fields.family) })).toBe(id);
  });

  it.each(fixture.invalid)("refuses %j, as the server does", (id) => {
    expect(parseNodeId(id)).toBeNull();
  });

  it("covers every family", () => {
    expect(new Set(fixture.valid.map((row) => row.family))).toEqual(new Set(FAMILIES));
  });
});

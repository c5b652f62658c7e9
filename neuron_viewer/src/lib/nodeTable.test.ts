import { describe, expect, it } from "vitest";
import { columnScale, filterNodes, sortNodes, sortValue, type MetricValues, type TableNode } from "./nodeTable";

function values(total: number | null, activation = 1): MetricValues {
  return { activation, writeMagnitude: 1, directEffect: 0, totalEffect: total };
}

const rows: TableNode[] = [
  { id: "neuron:blocks.0.mlp.hook_post:3:17", family: "neuron", name: "L0 N17", tokens: "(", values: { left: values(0.5) } },
  { id: "head:blocks.1.attn.hook_pattern:5:6:2", family: "head", name: "L1 H6", tokens: "value ← (", values: { left: values(-2) } },
  { id: "latent:blocks.1.mlp.hook_post.hook_sae_acts_post:5:9", family: "latent", name: "L1 MLP latent 9", tokens: "value", values: { left: values(null) } },
  { id: "embedding:hook_embed:5:0", family: "embedding", name: "Embedding", tokens: "value", values: { left: values(3) } },
];

describe("node table sorting", () => {
  it("sorts descending and ascending, undefined values last either way", () => {
    const desc = sortNodes(rows, { metric: "totalEffect", side: "left", descending: true });
    expect(desc.map((r) => r.name)).toEqual(["Embedding", "L0 N17", "L1 H6", "L1 MLP latent 9"]);
    const asc = sortNodes(rows, { metric: "totalEffect", side: "left", descending: false });
    expect(asc.map((r) => r.name)).toEqual(["L1 H6", "L0 N17", "Embedding", "L1 MLP latent 9"]);
  });

  it("is stable for ties and does not mutate its input", () => {
    const before = rows.map((r) => r.id);
    const sorted = sortNodes(rows, { metric: "writeMagnitude", side: "left", descending: true });
    expect(sorted.map((r) => r.id)).toEqual(before);
    expect(rows.map((r) => r.id)).toEqual(before);
  });

  it("sorts by the diff side when rows have one, else by left", () => {
    const [neuron, head] = rows;
    if (neuron === undefined || head === undefined) throw new Error("fixture");
    const two: TableNode[] = [
      { ...neuron, values: { left: values(1), right: values(0), diff: values(1) } },
      { ...head, values: { left: values(1), right: values(-3), diff: values(4) } },
    ];
    const sorted = sortNodes(two, { metric: "totalEffect", side: "diff", descending: true });
    expect(sorted.map((r) => r.name)).toEqual(["L1 H6", "L0 N17"]);
  });

  it("scales a column by its largest absolute value", () => {
    expect(columnScale(rows, "totalEffect", "left")).toBe(3);
  });
});

describe("node table filtering", () => {
  it("matches every term, case-insensitively, on family, name, tokens and id", () => {
    expect(filterNodes(rows, "l1").map((r) => r.name)).toEqual(["L1 H6", "L1 MLP latent 9"]);
    expect(filterNodes(rows, "L1 head").map((r) => r.name)).toEqual(["L1 H6"]);
    expect(filterNodes(rows, "(").map((r) => r.name)).toEqual(["L0 N17", "L1 H6"]);
  });

  it("excludes terms starting with '-' and ignores empty filters", () => {
    expect(filterNodes(rows, "-latent -embedding").map((r) => r.name)).toEqual(["L0 N17", "L1 H6"]);
    expect(filterNodes(rows, "   ")).toHaveLength(4);
    expect(filterNodes(rows, "-")).toHaveLength(4);
  });
});

describe("pinned and one-sided rows", () => {
  const [neuron, head, latent, embedding] = rows;
  if (neuron === undefined || head === undefined || latent === undefined || embedding === undefined) throw new Error("fixture");
  // An ablated neuron: its left values are zero, so any ranking would put it last.
  const pinned: TableNode = { ...neuron, pinned: true, values: { left: values(0, 0), right: values(0.5), diff: values(-0.5) } };
  const table = [head, latent, pinned, embedding];

  it("keeps pinned rows first whatever the sort", () => {
    for (const descending of [true, false]) {
      const sorted = sortNodes(table, { metric: "totalEffect", side: "left", descending });
      expect(sorted[0]?.id).toBe(pinned.id);
    }
    const sorted = sortNodes(table, { metric: "totalEffect", side: "left", descending: true });
    expect(sorted.map((r) => r.name)).toEqual(["L0 N17", "Embedding", "L1 H6", "L1 MLP latent 9"]);
  });

  it("never filters pinned rows out", () => {
    expect(filterNodes(table, "head").map((r) => r.name)).toEqual(["L1 H6", "L0 N17"]);
    expect(filterNodes(table, "-neuron").map((r) => r.id)).toContain(pinned.id);
  });

  it("gives a one-sided row no value on the side it lacks, so it sorts last there", () => {
    const leftOnly: TableNode = { ...head, only: "left", values: { left: values(9) } };
    const rightOnly: TableNode = { ...embedding, only: "right", values: { right: values(7) } };
    expect(sortValue(leftOnly, "totalEffect", "right")).toBeNull();
    expect(sortValue(leftOnly, "totalEffect", "diff")).toBeNull();
    expect(sortValue(rightOnly, "totalEffect", "left")).toBeNull();
    expect(sortValue(rightOnly, "totalEffect", "right")).toBe(7);
    const two: TableNode = { ...neuron, values: { left: values(1), right: values(2), diff: values(-1) } };
    const byRight = sortNodes([leftOnly, two, rightOnly], { metric: "totalEffect", side: "right", descending: true });
    expect(byRight.map((r) => r.name)).toEqual(["Embedding", "L0 N17", "L1 H6"]);
    expect(columnScale([leftOnly, two], "totalEffect", "right")).toBe(2);
    // a row of a single run sorted by another side still uses its left values
    expect(sortValue(head, "totalEffect", "diff")).toBe(-2);
  });
});

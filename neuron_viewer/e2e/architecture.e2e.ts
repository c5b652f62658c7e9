/** The architecture diagram against a real server: one block per layer, and a head's link
 * opens that head's component page. */
import { describe, expect, it } from "vitest";
import { browserSession } from "./browser";

const session = browserSession();
const TIMEOUT = 120_000;

describe("architecture page", () => {
  it("draws one block per layer and links heads to their pages", async () => {
    const { page, baseUrl, errors } = session();
    await page.goto(`${baseUrl}/architecture`);
    const layers = page.getByTestId("arch-layer");
    await layers.first().waitFor({ timeout: TIMEOUT });
    const nLayers = await page.evaluate(async () => {
      const response = await fetch("/api/model");
      const body = (await response.json()) as { config: { nLayers: number; nHeads: number } };
      return body.config.nLayers;
    });
    expect(await layers.count()).toBe(nLayers);
    await page.getByRole("heading", { name: "Embedding", exact: true }).waitFor();
    await page.getByRole("heading", { name: "Unembedding", exact: true }).waitFor();

    const last = nLayers - 1;
    await page.getByRole("link", { name: `Open the page of L${last} H0`, exact: true }).click();
    await page.waitForURL(new RegExp(`/component/head/${last}/0$`));
    await page.getByRole("heading", { name: new RegExp(`^L${last} H0`) }).waitFor({ timeout: TIMEOUT });
    expect(errors).toEqual([]);
  });

  it("links a layer's neurons to the home page's layer summary of that layer", async () => {
    const { page, baseUrl, errors } = session();
    await page.goto(`${baseUrl}/architecture`);
    await page.getByRole("link", { name: "Layer summary of the neurons of layer 1" }).click();
    await page.waitForURL(/\/\?summary=blocks\.1\.mlp\.hook_post/);
    await page.getByRole("table", { name: "Layer summary" }).waitFor({ timeout: TIMEOUT });
    // not the default (first) group: the one the link named
    expect(await page.locator("#summary-group option:checked").textContent()).toContain("neuron L1 (blocks.1.mlp.hook_post");
    expect(errors).toEqual([]);
  });
});

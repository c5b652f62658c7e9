/** The main flows of the UI against a real server: a default investigation's node table,
 * ablation, verification, a component page, and a reload of a shared URL. */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { browserSession } from "./browser";
import { nodeRows, openFirstInvestigation, RUN_TIMEOUT, settled } from "./debuggerPage";

const session = browserSession();

async function logitDiff(page: Page, side: "left" | "right"): Promise<number> {
  const cell = page.getByTestId(`logit-diff-${side}`);
  await cell.waitFor({ timeout: RUN_TIMEOUT });
  return Number(await cell.textContent());
}


describe("debugger", () => {
  it("runs a default investigation and lists nodes", async () => {
    const { page, baseUrl, errors } = session();
    await openFirstInvestigation(page, baseUrl);
    const rows = await nodeRows(page);
    expect(await rows.count()).toBeGreaterThan(0);
    expect(await logitDiff(page, "left")).toBeGreaterThan(0);
    await page.getByRole("heading", { name: "Next-token logits" }).waitFor();
    expect(errors).toEqual([]);
  });

  it("ablates the top node and the logit difference changes", async () => {
    const { page, baseUrl, errors } = session();
    await openFirstInvestigation(page, baseUrl);
    const rows = await nodeRows(page);
    const before = await logitDiff(page, "left");
    const top = rows.first();
    const topId = await top.getAttribute("data-node-id");
    await top.getByRole("button", { name: /^Ablate / }).click();
    await page.getByTestId("logit-diff-right").waitFor({ timeout: RUN_TIMEOUT });
    await settled(page);
    const ablated = await logitDiff(page, "left");
    const baseline = await logitDiff(page, "right");
    expect(baseline).toBeCloseTo(before, 3);
    expect(Math.abs(ablated - baseline)).toBeGreaterThan(1e-3);
    expect(page.url()).toContain("ablate=");
    await expect(page.getByTestId("interventions").textContent()).resolves.toContain("Ablated");
    expect(topId).not.toBeNull();
    // The ablated node has nothing left to rank it by, yet stays listed: pinned, first.
    const first = (await nodeRows(page)).first();
    expect(await first.getAttribute("data-node-id")).toBe(topId);
    expect(await first.getAttribute("class")).toContain("pinned");
    await expect(first.getByTestId("pin").textContent()).resolves.toContain("ablated");
    expect(errors).toEqual([]);
  });

  it("verifies estimates against true effects", async () => {
    const { page, baseUrl, errors } = session();
    await openFirstInvestigation(page, baseUrl);
    await nodeRows(page);
    await page.getByRole("button", { name: "Verify" }).click();
    const table = page.getByRole("table", { name: "True and estimated effects" });
    await table.waitFor({ timeout: RUN_TIMEOUT });
    const cells = table.locator("tbody tr");
    expect(await cells.count()).toBeGreaterThan(0);
    const trueEffect = await cells.first().locator("td").nth(2).textContent();
    expect(trueEffect).not.toBe("–");
    await expect(page.getByTestId("verification").textContent()).resolves.toMatch(/Pearson r = -?\d/);
    expect(errors).toEqual([]);
  });

  it("reloads a URL to the same view", async () => {
    const { page, baseUrl, errors } = session();
    await openFirstInvestigation(page, baseUrl);
    const rows = await nodeRows(page);
    await rows.first().getByRole("button", { name: /^Ablate / }).click();
    await page.getByTestId("logit-diff-right").waitFor({ timeout: RUN_TIMEOUT });
    await settled(page);
    await page.getByLabel("Filter").fill("-embedding");
    await page.waitForURL(/filter=-embedding/);
    // The URL changes before the filtered table renders: wait for the rows, not the URL.
    const readIds = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-node-id")));
    // (a pinned row, the ablated node, stays whatever the filter)
    const unfiltered = () =>
      rows.evaluateAll(
        (trs) =>
          trs.filter(
            (tr) =>
              tr.getAttribute("data-node-id")?.startsWith("embedding:") === true &&
              !tr.classList.contains("pinned"),
          ).length,
      );
    await expect.poll(unfiltered).toBe(0);
    const url = page.url();
    const ids = await readIds();
    const left = await logitDiff(page, "left");

    await page.reload();
    const again = await nodeRows(page);
    await page.getByTestId("logit-diff-right").waitFor({ timeout: RUN_TIMEOUT });
    expect(page.url()).toBe(url);
    expect(await logitDiff(page, "left")).toBe(left);
    expect(await again.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-node-id")))).toEqual(ids);
    expect(await page.getByLabel("Filter").inputValue()).toBe("-embedding");
    expect(errors).toEqual([]);
  });

  it("compares two prompts with left, diff and right columns", async () => {
    const { page, baseUrl, errors } = session();
    await openFirstInvestigation(page, baseUrl);
    await nodeRows(page);
    const prompt = await page.getByLabel("Prompt", { exact: true }).inputValue();
    await page.getByLabel("Compare with a second prompt (right run)").check();
    // the first word replaced by "x": another text of the same token count (both one token)
    await page.getByLabel("Second prompt", { exact: true }).fill(prompt.replace(/^\S+/, "x"));
    await page.getByRole("button", { name: "Run" }).click();
    await page.waitForURL(/compare=/);
    await page.getByTestId("logit-diff-right").waitFor({ timeout: RUN_TIMEOUT });
    const headers = page.getByRole("table", { name: "Node table" }).getByRole("columnheader");
    expect(await headers.allTextContents()).toEqual(expect.arrayContaining(["left", "diff", "right"]));
    expect(errors).toEqual([]);
  });

  it("compares a prompt of another token count, right-aligned", async () => {
    const { page, baseUrl, errors } = session();
    await openFirstInvestigation(page, baseUrl);
    await nodeRows(page);
    const prompt = await page.getByLabel("Prompt", { exact: true }).inputValue();
    await page.getByLabel("Compare with a second prompt (right run)").check();
    // the first word dropped: a second prompt with fewer tokens
    await page.getByLabel("Second prompt", { exact: true }).fill(prompt.replace(/^\S+\s*/, ""));
    await page.getByRole("button", { name: "Run" }).click();
    await page.waitForURL(/compare=/);
    const answer = page.locator('[data-testid="token-pairs"], [role="alert"]').first();
    await answer.waitFor({ timeout: RUN_TIMEOUT });
    expect(await page.getByRole("alert").allTextContents()).toEqual([]);
    await settled(page);
    const pairs = page.getByTestId("token-pairs");
    expect(await pairs.locator("td.unpaired").count()).toBeGreaterThan(0);
    expect(await (await nodeRows(page)).count()).toBeGreaterThan(0);
    expect(await logitDiff(page, "right")).not.toBeNaN();
    expect(errors).toEqual([]);
  });

  it("explains another position chosen in the token strip", async () => {
    const { page, baseUrl, errors } = session();
    await openFirstInvestigation(page, baseUrl);
    await nodeRows(page);
    const explained = page.getByTestId("explained-position");
    const last = Number(await explained.textContent());
    expect(last).toBeGreaterThan(0);
    const strip = page.getByLabel("Prompt tokens: choose the explained position");
    await strip.getByRole("button", { name: `Token ${last - 1}:`, exact: false }).click();
    await page.waitForURL(new RegExp(`pos=${last - 1}`));
    await page.waitForFunction(
      (want) => document.querySelector('[data-testid="explained-position"]')?.textContent === want,
      String(last - 1),
      { timeout: RUN_TIMEOUT },
    );
    await settled(page);
    expect(await strip.getByRole("button", { pressed: true }).getAttribute("aria-label")).toMatch(new RegExp(`^Token ${last - 1}:`));
    expect(await page.getByLabel("position", { exact: true }).inputValue()).toBe(String(last - 1));
    expect(errors).toEqual([]);
  });

  it("shows the logit lens per layer, with direct logit attribution", async () => {
    const { page, baseUrl, errors } = session();
    await openFirstInvestigation(page, baseUrl);
    await nodeRows(page);
    await page.getByRole("heading", { name: "Logit lens" }).click();
    await page.waitForURL(/lens=1/);
    const layers = page.getByTestId("lens-layer");
    await layers.first().waitFor({ timeout: RUN_TIMEOUT });
    expect(await layers.count()).toBeGreaterThan(1);
    await page.getByRole("table", { name: "Direct logit attribution" }).waitFor();
    expect(errors).toEqual([]);
  });
});

describe("component page", () => {
  it("opens from the node table and shows dataset examples", async () => {
    const { page, baseUrl, errors } = session();
    await openFirstInvestigation(page, baseUrl);
    await nodeRows(page);
    await page.getByLabel("Filter").fill("neuron");
    await page.getByRole("link", { name: /^Open the page of / }).first().click();
    await page.waitForURL(/\/component\/neuron\/\d+\/\d+/);
    const examples = page.getByTestId("example");
    await examples.first().waitFor({ timeout: RUN_TIMEOUT });
    expect(await examples.count()).toBeGreaterThan(0);
    await page.getByRole("img", { name: "Activation histogram" }).waitFor();
    expect(errors).toEqual([]);
  });

  it("shows a head's attention pattern on my text, and steps with the keyboard", async () => {
    const { page, baseUrl, errors } = session();
    await page.goto(`${baseUrl}/component/head/1/0`);
    await page.getByTestId("example").first().waitFor({ timeout: RUN_TIMEOUT });
    await page.getByLabel("Your text").fill("x = f(a, b) + f(a, b)");
    await page.getByRole("button", { name: "Show activations" }).click();
    await page.getByTestId("pair-grid").waitFor({ timeout: RUN_TIMEOUT });
    await page.locator("body").click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("ArrowRight");
    await page.waitForURL(/\/component\/head\/1\/1\?text=/);
    await page.reload();
    await page.getByTestId("pair-grid").waitFor({ timeout: RUN_TIMEOUT });
    expect(errors).toEqual([]);
  });
});

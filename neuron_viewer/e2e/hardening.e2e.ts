/** The debugger's rough edges (issue 16), against a real server: stale results and actions on
 * the prompt the form shows, one run for several keystrokes in k, text shown as text, noise and
 * histogram axes, and long prompts that stay inside their cards on the home page. */
import type { Page, Request } from "playwright-core";
import { describe, expect, it } from "vitest";
import { browserSession } from "./browser";
import { nodeRows, openFirstInvestigation as openInvestigation, RUN_TIMEOUT, settled } from "./debuggerPage";

const session = browserSession();
const ATTRIBUTE = "/api/debugger/attribute";

interface AttributeBody {
  runs: { prompt: string; k: number; ablations?: { nodeId: string }[] }[];
}

/** Every debugger run the page asks for, in order. */
function recordRuns(page: Page): AttributeBody[] {
  const runs: AttributeBody[] = [];
  page.on("request", (request: Request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === ATTRIBUTE) {
      runs.push(request.postDataJSON() as AttributeBody);
    }
  });
  return runs;
}

async function openFirstInvestigation(page: Page, baseUrl: string) {
  await openInvestigation(page, baseUrl);
  return nodeRows(page);
}

describe("debugger form and results", () => {
  it("marks results stale after an edit, and ablating then uses the prompt shown", async () => {
    const { page, baseUrl, errors } = session();
    const runs = recordRuns(page);
    const rows = await openFirstInvestigation(page, baseUrl);
    await settled(page);
    const promptBox = page.getByLabel("Prompt", { exact: true });
    const edited = `${await promptBox.inputValue()} and`;
    await promptBox.fill(edited);
    await page.getByTestId("stale").waitFor({ timeout: 5000 });
    expect(await page.getByTestId("stale").textContent()).toContain("press Run");

    const before = runs.length;
    await rows.first().getByRole("button", { name: /^Ablate / }).click();
    await page.getByTestId("logit-diff-right").waitFor({ timeout: RUN_TIMEOUT });
    await settled(page);
    const sent = runs.slice(before).map((b) => b.runs[0]);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((r) => r?.prompt === edited)).toBe(true);
    expect(sent.at(-1)?.ablations).toHaveLength(1);
    expect(new URL(page.url()).searchParams.get("prompt")).toBe(edited);
    expect(await promptBox.inputValue()).toBe(edited);
    expect(await page.getByTestId("stale").count()).toBe(0);
    expect(errors).toEqual([]);
  });

  it("starts one run for several keystrokes in k", async () => {
    const { page, baseUrl, errors } = session();
    const runs = recordRuns(page);
    await openFirstInvestigation(page, baseUrl);
    await settled(page);
    const before = runs.length;
    const k = page.getByLabel("top/bottom k");
    await k.click();
    await k.press("ControlOrMeta+a");
    await k.pressSequentially("25", { delay: 120 });
    await page.waitForURL(/[?&]k=25(&|$)/, { timeout: 10_000 });
    await settled(page);
    await page.waitForTimeout(1500); // a late second run would have started by now
    const sent = runs.slice(before).map((b) => b.runs[0]?.k);
    expect(sent).toEqual([25]);
    expect(errors).toEqual([]);
  });

  it("shows non-ASCII text as characters and suggests no partial byte as a target", async () => {
    const { page, baseUrl, errors } = session();
    await page.goto(`${baseUrl}/debugger`);
    await page.getByLabel("Prompt", { exact: true }).fill("le café 😀");
    const strip = page.getByLabel("Prompt tokens", { exact: true });
    await strip.getByText("é", { exact: true }).waitFor({ timeout: RUN_TIMEOUT });
    const chips = await strip.locator(".token").allTextContents();
    expect(chips).toContain("😀");
    expect(chips.join("")).not.toContain("\\x");

    await page.getByLabel("Targets 1").fill("😀");
    const warning = page.getByRole("alert").filter({ hasText: "tokens" });
    await warning.getByText(/part of a character/).waitFor({ timeout: RUN_TIMEOUT });
    expect(await warning.textContent()).not.toContain("\\x");
    expect(errors).toEqual([]);
  });
});

describe("numbers", () => {
  it("ends a neuron's histogram at its maximum and starts a latent's at 0", async () => {
    const { page, baseUrl, errors } = session();
    // The most active latent of the first collated latent group (a dead one has no histogram).
    await page.goto(`${baseUrl}/`);
    const latent = await page.evaluate(async () => {
      const info = (await (await fetch("/api/model")).json()) as { dataset: { groups: { family: string; site: string }[] } };
      const site = info.dataset.groups.find((g) => g.family === "latent")?.site;
      if (site === undefined) return null;
      const summary = (await (await fetch(`/api/datasets/summaries/latent/${site}?by=max&limit=1`)).json()) as {
        rows: { index: number }[];
      };
      return { site: site.replace(/\.hook_sae_acts_post$/, ""), index: summary.rows[0]?.index ?? 0 };
    });
    for (const index of [0, 1, 2]) {
      await page.goto(`${baseUrl}/component/neuron/1/${index}`);
      const high = page.getByTestId("histogram-high");
      await high.waitFor({ timeout: RUN_TIMEOUT });
      const stats = page.getByRole("table", { name: "Statistics" });
      const max = await stats.getByRole("row", { name: /^max/ }).locator("td").textContent();
      expect(await high.textContent()).toBe(max);
    }
    expect(latent).not.toBeNull();
    await page.goto(`${baseUrl}/component/latent/${encodeURIComponent(latent?.site ?? "")}/${latent?.index ?? 0}`);
    const low = page.getByTestId("histogram-low");
    await low.waitFor({ timeout: RUN_TIMEOUT });
    expect(await low.textContent()).toBe("0");
    expect(errors).toEqual([]);
  });
});

describe("home page", () => {
  it("keeps a long unbroken prompt inside its card at 1280, 1340 and 1400 px", async () => {
    const { page, baseUrl, errors } = session();
    // The bundled investigations have short prompts: add one with a 300-character word.
    const long = "x".repeat(150) + "_" + "y".repeat(149);
    await page.route("**/api/investigations*", async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { investigations: Record<string, unknown>[] };
      const [first] = body.investigations;
      body.investigations.push({ ...first, id: "long-prompt", title: `Long ${long.slice(0, 80)}`, prompt: long });
      await route.fulfill({ response, json: body });
    });
    await page.goto(`${baseUrl}/`);
    await page.getByText(long.slice(0, 40), { exact: false }).first().waitFor({ timeout: RUN_TIMEOUT });
    for (const width of [1280, 1340, 1400]) {
      await page.setViewportSize({ width, height: 900 });
      const overflowing = await page.evaluate(() =>
        Array.from(document.querySelectorAll<HTMLElement>("main .panel, main .panel li, main .panel p"))
          .filter((el) => el.scrollWidth > el.clientWidth)
          .map((el) => `${el.tagName}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`),
      );
      expect(overflowing, `at ${width} px`).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    }
    expect(errors).toEqual([]);
  });
});

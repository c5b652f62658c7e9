/** Two models in one server: the top bar's switcher lists both, switching puts `?model=` in
 * the URL and keeps the question but not the old model's ablations, the debugger answers on
 * the other model, links keep it, and a reload stays on it. Runs its own `tdb serve` with two
 * `--model`s on the shared e2e data directory (a store for the default model only). Skipped
 * against an external server (TDB_E2E_URL). */
import type { ChildProcess } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { browserSession } from "./browser";
import { nodeRows, RUN_TIMEOUT, settled } from "./debuggerPage";
import { E2E_DATA_DIR, startTdb } from "./serve";

const DEFAULT = "toy-gelu-2l";
const OTHER = "toy-attn-only-2l";
const QUESTION = "/debugger?prompt=name+%3D+str%28value&t=%29&d=%5D";

const session = browserSession();
let server: ChildProcess | undefined;

afterAll(() => {
  server?.kill("SIGTERM");
});

async function startServer(): Promise<string> {
  const served = await startTdb(["--model", DEFAULT, "--model", OTHER, "--saes", "none", "--data-dir", E2E_DATA_DIR]);
  server = served.child;
  return served.url;
}

describe.skipIf(process.env.TDB_E2E_URL !== undefined)("several models", () => {
  it("switches models from the top bar, keeping the question in the URL", async () => {
    const { page, errors } = session();
    const url = await startServer();
    await page.goto(`${url}${QUESTION}`);
    const badge = page.getByTestId("model-badge");
    await badge.filter({ hasText: `model: ${DEFAULT}` }).waitFor({ timeout: RUN_TIMEOUT });
    const rows = await nodeRows(page);
    await rows.first().getByRole("button", { name: /^Ablate / }).click();
    await page.waitForURL(/ablate=/);
    await settled(page);

    const switcher = page.getByRole("combobox", { name: "Model" });
    const options = await switcher.locator("option").evaluateAll((os) => os.map((o) => o.getAttribute("value")));
    expect(options).toEqual([DEFAULT, OTHER]);
    await switcher.selectOption(OTHER);
    await page.waitForURL(new RegExp(`model=${OTHER}`));
    const switched = new URL(page.url()).searchParams;
    expect(switched.get("prompt")).toBe("name = str(value");
    expect(switched.get("ablate")).toBeNull(); // a node of the old model
    await badge.filter({ hasText: `model: ${OTHER}` }).waitFor({ timeout: RUN_TIMEOUT });

    // The debugger answers on the attention-only model: heads and embeddings, no neurons.
    const ids = async () => {
      await settled(page);
      const otherRows = await nodeRows(page);
      return otherRows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-node-id") ?? ""));
    };
    const listed = await ids();
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.some((id) => id.startsWith("neuron"))).toBe(false);
    await page.getByTestId("logit-diff-left").waitFor({ timeout: RUN_TIMEOUT });

    await page.reload();
    await badge.filter({ hasText: `model: ${OTHER}` }).waitFor({ timeout: RUN_TIMEOUT });
    expect(await switcher.inputValue()).toBe(OTHER);
    expect(await ids()).toEqual(listed);

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Home" }).click();
    await page.waitForURL((u) => u.pathname === "/" && u.searchParams.get("model") === OTHER);
    await badge.filter({ hasText: `model: ${OTHER}` }).waitFor({ timeout: RUN_TIMEOUT });
    await switcher.selectOption(DEFAULT);
    await page.waitForURL((u) => u.pathname === "/" && !u.searchParams.has("model"));
    await badge.filter({ hasText: `model: ${DEFAULT}` }).waitFor({ timeout: RUN_TIMEOUT });
    expect(errors).toEqual([]);
  });
});

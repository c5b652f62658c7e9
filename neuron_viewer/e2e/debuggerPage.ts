/** Steps on the debugger page shared by the browser tests. */
import type { Page } from "playwright-core";

export const RUN_TIMEOUT = 120_000;

/** The node table's rows, once the first has rendered. */
export async function nodeRows(page: Page) {
  const rows = page.locator('[data-testid="node-table"] tbody tr[data-node-id]');
  await rows.first().waitFor({ timeout: RUN_TIMEOUT });
  return rows;
}

/** Waits until no request is in flight (the "Updating…" banner is gone). */
export async function settled(page: Page) {
  await page.getByText("Updating…").waitFor({ state: "detached", timeout: RUN_TIMEOUT });
}

/** Opens the home page's first default investigation in the debugger. */
export async function openFirstInvestigation(page: Page, baseUrl: string) {
  await page.goto(`${baseUrl}/`);
  const link = page.getByTestId("investigation-link").first();
  await link.waitFor({ timeout: RUN_TIMEOUT });
  await link.click();
  await page.waitForURL(/\/debugger\?/);
}

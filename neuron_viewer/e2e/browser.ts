/** One Chromium (Debian's, never a downloaded build) for the browser tests; each test gets a
 * fresh page at 1280x800 that records console errors and uncaught page errors, and saves a
 * screenshot into test-results/ when the test fails. */
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, inject, type TestContext } from "vitest";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const RESULTS = join(resolve(dirname(fileURLToPath(import.meta.url)), ".."), "test-results");

export interface Session {
  page: Page;
  baseUrl: string;
  /** console errors and page errors seen so far */
  errors: string[];
}

export function browserSession(): () => Session {
  let browser: Browser | undefined;
  let session: Session | undefined;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async (context: TestContext) => {
    if (browser === undefined) throw new Error("no browser");
    // The previous test's page closes only now, so a failed test's screenshot can still be taken.
    await session?.page.close();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
    session = { page, baseUrl: inject("baseUrl"), errors };
    context.onTestFailed(async () => {
      mkdirSync(RESULTS, { recursive: true });
      const name = context.task.name.replace(/[^A-Za-z0-9]+/g, "-").slice(0, 80);
      await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true });
    });
  });

  return () => {
    if (session === undefined) throw new Error("browserSession: no session (call inside a test)");
    return session;
  };
}

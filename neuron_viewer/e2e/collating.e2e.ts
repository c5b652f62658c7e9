/** A first start: the datasets are being collated while the server answers. A component page
 * says how far the collation is (no failing requests meanwhile), and fills in by itself once
 * the store is there. Runs its own `tdb serve` on a data directory whose store "is being
 * collated" (the progress file of a live process: this test's), then copies the shared e2e
 * store in. Skipped against an external server (TDB_E2E_URL). */
import type { ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { browserSession } from "./browser";
import { E2E_DATA_DIR, startTdb } from "./serve";

const MODEL = "toy-gelu-2l";
const TIMEOUT = 120_000;

const session = browserSession();
let server: ChildProcess | undefined;
let dataDir: string | undefined;

afterAll(() => {
  server?.kill("SIGTERM");
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

async function startServer(dir: string): Promise<string> {
  const served = await startTdb(["--model", MODEL, "--data-dir", dir]);
  server = served.child;
  return served.url;
}

describe.skipIf(process.env.TDB_E2E_URL !== undefined)("while the datasets are collated", () => {
  it("shows the collation's progress, then the record once the store is written", async () => {
    const { page, errors } = session();
    dataDir = mkdtempSync(join(tmpdir(), "tdb-e2e-collating-"));
    const work = join(dataDir, "collations", `${MODEL}.work`);
    mkdirSync(work, { recursive: true });
    const now = Date.now() / 1000;
    const progress = { tokens_done: 440_320, n_tokens: 1_048_576, started: now - 60, updated: now };
    writeFileSync(join(work, "progress.json"), JSON.stringify({ ...progress, pid: process.pid }));
    const url = await startServer(dataDir);

    await page.goto(`${url}/component/neuron/0/5`);
    const notice = page.getByRole("status").filter({ hasText: "Collating:" });
    await notice.waitFor({ timeout: TIMEOUT });
    expect(await notice.textContent()).toContain("42% (440,320 of 1,048,576 tokens)");
    expect(await page.getByTestId("example").count()).toBe(0);

    // The collation "finishes": its store appears; the page asks again and shows the record.
    cpSync(join(E2E_DATA_DIR, "collations", MODEL), join(dataDir, "collations", MODEL), {
      recursive: true,
    });
    rmSync(work, { recursive: true, force: true });
    await page.getByTestId("example").first().waitFor({ timeout: 40_000 });
    expect(await notice.count()).toBe(0);
    expect(errors).toEqual([]);
  });
});

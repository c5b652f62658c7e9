/** The API docs (/api/docs) against a real server: Swagger UI renders every operation of the
 * OpenAPI document from files the server itself serves; the page asks nothing of another host
 * (it was blank offline when it loaded Swagger UI from a CDN). */
import { describe, expect, it } from "vitest";
import { browserSession } from "./browser";

const session = browserSession();
const TIMEOUT = 60_000;

describe("API docs", () => {
  it("renders every operation offline, from the server's own files", async () => {
    const { page, baseUrl, errors } = session();
    const requested: string[] = [];
    page.on("request", (request) => requested.push(request.url()));
    await page.goto(`${baseUrl}/api/docs`);
    const operations = page.locator(".opblock");
    await operations.first().waitFor({ timeout: TIMEOUT });

    const paths = await page.evaluate(async () => {
      const response = await fetch("/api/openapi.json");
      const doc = (await response.json()) as { paths: Record<string, Record<string, unknown>> };
      return Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map(() => path));
    });
    expect(paths.length).toBeGreaterThan(5);
    expect(await operations.count()).toBe(paths.length);
    await page.locator(".opblock-summary-path", { hasText: "/api/debugger/attribute" }).first().waitFor();

    const outside = requested.filter((url) => !url.startsWith(`${baseUrl}/`) && !url.startsWith("data:"));
    expect(outside).toEqual([]);
    expect(requested).toContain(`${baseUrl}/api/docs/assets/swagger-ui-bundle.js`);
    expect(errors).toEqual([]);
  });
});

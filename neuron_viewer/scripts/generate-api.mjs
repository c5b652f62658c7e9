// Generates the typed API client's schema from the server's OpenAPI document:
//   tdb openapi  ->  src/api/generated/openapi.json   (exported without loading a model)
//   openapi-typescript  ->  src/api/generated/schema.d.ts
// The tdb executable is $TDB, else ../.venv/bin/tdb, else tdb on the PATH.
//   --spec FILE   use an OpenAPI document already exported instead of running tdb
//   --check       write nothing; exit 1 when the generated files differ from the server's schema
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "src", "api", "generated");
const specPath = join(outDir, "openapi.json");
const schemaPath = join(outDir, "schema.d.ts");
const venvTdb = resolve(root, "..", ".venv", "bin", "tdb");
const tdb = process.env.TDB ?? (existsSync(venvTdb) ? venvTdb : "tdb");
const args = process.argv.slice(2);
const check = args.includes("--check");
const given = args.indexOf("--spec");

function exportSpec() {
  if (given >= 0) {
    const file = args[given + 1];
    if (file === undefined) throw new Error("--spec needs a file");
    return readFileSync(file, "utf8");
  }
  const dir = mkdtempSync(join(tmpdir(), "tdb-openapi-"));
  try {
    const out = join(dir, "openapi.json");
    execFileSync(tdb, ["openapi", "--out", out], { cwd: resolve(root, ".."), stdio: ["ignore", "ignore", "inherit"] });
    return readFileSync(out, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const specText = JSON.stringify(JSON.parse(exportSpec()), null, 2) + "\n";
// Fields with defaults stay optional in request bodies (the server fills them in).
const ast = await openapiTS(JSON.parse(specText), { alphabetize: true, defaultNonNullable: false });
const header =
  "// GENERATED FILE: do not edit. Made by `npm run generate-api` from the server's OpenAPI\n" +
  "// document (`tdb openapi`); regenerate after changing the server's schemas or routes.\n";
const schemaText = header + astToString(ast);

if (check) {
  const same = (path, text) => existsSync(path) && readFileSync(path, "utf8") === text;
  if (!same(specPath, specText) || !same(schemaPath, schemaText)) {
    console.error("src/api/generated/ is out of date with the server's schema: run `npm run generate-api`");
    process.exit(1);
  }
  console.log("src/api/generated/ matches the server's schema");
} else {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(specPath, specText);
  writeFileSync(schemaPath, schemaText);
  const paths = Object.keys(JSON.parse(specText).paths ?? {}).length;
  console.log(`wrote ${specPath} and ${schemaPath} (${paths} paths)`);
}

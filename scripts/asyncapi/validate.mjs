// Validate an AsyncAPI document with the real @asyncapi/parser (npm) and print, as one JSON
// object on stdout, its diagnostics and the parsed document (references resolved):
//   node scripts/asyncapi/validate.mjs docs/asyncapi.yaml
// The parser is looked up in KETENPOORT_NODE_MODULES (default: .cache/node/node_modules, where
// scripts/ensure-services.sh installs it). Exit 0 when valid (no diagnostic of severity
// error), 1 when not, 2 on a usage or installation problem.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";

const [file] = process.argv.slice(2);
if (!file) {
  console.error("usage: node validate.mjs FILE");
  process.exit(2);
}
const modules = resolve(process.env.KETENPOORT_NODE_MODULES ?? ".cache/node/node_modules");
const require = createRequire(`${modules}/`);
let Parser;
try {
  ({ Parser } = require("@asyncapi/parser"));
} catch (error) {
  console.error(`@asyncapi/parser not found in ${modules}: ${error.message}`);
  process.exit(2);
}

const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(file, "utf8"), {
  source: resolve(file),
});
const SEVERITY = ["error", "warning", "information", "hint"];
const report = {
  parser: require("@asyncapi/parser/package.json").version,
  valid: document !== undefined && !diagnostics.some((d) => d.severity === 0),
  diagnostics: diagnostics.map((d) => ({
    code: d.code,
    severity: SEVERITY[d.severity] ?? String(d.severity),
    message: d.message,
    path: d.path,
  })),
  version: document?.version(),
  document: document?.json(),
};
// exitCode, not exit(): a pipe takes more than 64 KiB only once Node's event loop drains it
process.exitCode = report.valid ? 0 : 1;
process.stdout.write(JSON.stringify(report));

// Validates AsyncAPI documents with the official parser (schema, $refs, bindings and its lint rules).
// Usage: node validate.mjs FILE...   Prints {"FILE": [diagnostic, ...], ...} as JSON on stdout and
// exits 1 if any document has an error-level diagnostic, 2 on a usage or read error.
import { readFile } from "node:fs/promises";
import { DiagnosticSeverity, Parser } from "@asyncapi/parser";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE...");
  process.exit(2);
}

// The AsyncAPI 3.0 specification says every key under `components` MUST match this, but its JSON Schema
// does not enforce it (a key like `Envelope[Foo]` passes), so this rule adds it as an error.
const COMPONENT_KEY = /^[a-zA-Z0-9.\-_]+$/;
const componentKeys = (target, _options, context) =>
  Object.keys(target ?? {})
    .filter((key) => !COMPONENT_KEY.test(key))
    .map((key) => ({ message: `Component key "${key}" must match ${COMPONENT_KEY}.`, path: [...context.path, key] }));

const parser = new Parser({
  ruleset: {
    rules: {
      "asyncapi3-component-keys": {
        description: "Keys under components match ^[a-zA-Z0-9.\\-_]+$.",
        message: "{{error}}",
        severity: "error",
        given: "$.components[?(!@property.startsWith('x-'))]",
        then: { function: componentKeys },
      },
    },
  },
});
const severities = Object.fromEntries(Object.entries(DiagnosticSeverity).map(([name, value]) => [value, name]));
const report = {};
let failed = false;
for (const file of files) {
  const { diagnostics } = await parser.parse(await readFile(file, "utf8"), { source: file });
  report[file] = diagnostics.map((d) => ({
    severity: severities[d.severity],
    code: d.code,
    message: d.message,
    path: d.path.join("/"),
  }));
  failed ||= diagnostics.some((d) => d.severity === DiagnosticSeverity.Error);
}
console.log(JSON.stringify(report, null, 2));
process.exit(failed ? 1 : 0);

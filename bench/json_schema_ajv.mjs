// json_schema_ajv.mjs — the Ajv row of bench/json_schema.py.
//
//   node bench/json_schema_ajv.mjs NPM_DIR SCHEMA NDJSON ROUNDS
//
// NPM_DIR holds node_modules with ajv and ajv-formats (json_schema.py installs
// them there with `npm install --prefix`). Validates every line of NDJSON
// (one document per line, as text) against SCHEMA with Ajv's draft 2020-12
// class and ajv-formats (full mode: formats asserted), ROUNDS times, and
// prints one JSON object: versions, the valid count, the 0-based line numbers
// of the invalid documents, and per round the milliseconds for JSON.parse
// alone and for JSON.parse + validate (text in, verdict out).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [npmDir, schemaPath, docsPath, roundsArg] = process.argv.slice(2);
const require = createRequire(join(npmDir, "package.json"));
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats").default;

const ajv = new Ajv2020({ strict: true, allErrors: false });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")));
const docs = readFileSync(docsPath, "utf8").split("\n").filter((l) => l.length > 0);
const rounds = Number(roundsArg || 3);

const parseMs = [], validateMs = [];
let valid = 0, invalidIds = [];
for (let r = 0; r < rounds; r++) {
  let t0 = process.hrtime.bigint();
  let sink = 0;
  for (const d of docs) sink += JSON.parse(d) === null ? 0 : 1;
  parseMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  if (sink !== docs.length) throw new Error("parse anchor miscounted");

  t0 = process.hrtime.bigint();
  let n = 0;
  for (const d of docs) if (validate(JSON.parse(d))) n++;
  validateMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  valid = n;
}
docs.forEach((d, i) => { if (!validate(JSON.parse(d))) invalidIds.push(i); });
if (invalidIds.length !== docs.length - valid) throw new Error("verdicts changed between passes");

console.log(JSON.stringify({
  ajv: require("ajv/package.json").version,
  ajv_formats: require("ajv-formats/package.json").version,
  node: process.versions.node,
  docs: docs.length, valid, invalid_ids: invalidIds, parse_ms: parseMs, validate_ms: validateMs,
}));

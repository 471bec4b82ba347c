#!/usr/bin/env node
// Validates Confab's API documents: node validate.mjs DOCS_DIR
//
//   DOCS_DIR/openapi.yaml   OpenAPI 3.1: the official JSON Schema of the specification
//                           (@apidevtools/swagger-parser), then Redocly's `recommended`
//                           rules (@redocly/openapi-core: structure, refs, path parameters,
//                           operation ids, security, examples against their schemas).
//   DOCS_DIR/asyncapi.yaml  AsyncAPI: @asyncapi/parser (the specification's JSON Schema plus
//                           its Spectral rules).
//
// Runs offline once `npm ci` has installed the pinned packages. Prints every problem with
// its location and exits 1 when a document has an error (warnings are printed, not fatal),
// 2 on bad usage or missing packages. Run by ctest as `api_documents`.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function usage(message) {
  if (message) console.error(`validate.mjs: ${message}`);
  console.error('usage: node validate.mjs DOCS_DIR   (validates DOCS_DIR/openapi.yaml and DOCS_DIR/asyncapi.yaml)');
  process.exit(2);
}

// The packages are imported only after this check, so a missing install is one clear line.
async function load(name) {
  if (!existsSync(path.join(here, 'node_modules', ...name.split('/')))) {
    console.error(`validate.mjs: ${name} is not installed; run: npm ci --prefix ${path.relative(process.cwd(), here) || '.'}`);
    process.exit(2);
  }
  return import(name);
}

const where = (file, line, column) => `${file}${line ? `:${line}${column ? `:${column}` : ''}` : ''}`;

const crossCuttingReasons = {
  400: 'an X-On-Behalf-Of that is not a user id',
  401: 'a missing or revoked token',
  403: 'acting for a deactivated user',
  413: 'a body over limits.body_bytes, refused from its Content-Length before any route is chosen',
  429: 'the connections of an address, the request budget of a user',
};

// 413 and 429 anywhere; on a REST route a session token opens, also what a token and acting on a
// user's behalf may meet (docs/api.md, Server API; the WebSocket upgrade takes no
// X-On-Behalf-Of).
function crossCuttingStatuses(route, operation, defaultSecurity) {
  const security = operation.security ?? defaultSecurity ?? [];
  const bySession = security.some((requirement) => 'bearerAuth' in requirement);
  return bySession && route !== '/api/v1/ws' ? ['400', '401', '403', '413', '429'] : ['413', '429'];
}

async function validateOpenApi(file) {
  let errors = 0;
  let warnings = 0;

  // 1. The document against the official OpenAPI 3.1 JSON Schema, with every $ref resolved.
  const { default: SwaggerParser } = await load('@apidevtools/swagger-parser');
  try {
    const api = await SwaggerParser.validate(file, { resolve: { external: false } });
    if (api.openapi !== '3.1.0') {
      console.error(`${file}: openapi is ${JSON.stringify(api.openapi)}, expected "3.1.0"`);
      errors++;
    }
  } catch (e) {
    const details = Array.isArray(e.details) ? e.details : [];
    console.error(`${file}: ${e.message.split('\n')[0]}`);
    for (const d of details) console.error(`  at #${d.instancePath ?? ''}: ${d.message ?? JSON.stringify(d)}`);
    if (!details.length && e.message.includes('\n')) console.error(e.message.split('\n').slice(1).join('\n'));
    errors++;
  }

  // 2. Redocly's recommended rules, stricter where a client generator would trip.
  const redocly = await load('@redocly/openapi-core');
  const require = createRequire(import.meta.url);
  const { version } = require('@redocly/openapi-core/package.json');
  const config = await redocly.createConfig({
    extends: ['recommended'],
    rules: {
      'no-unresolved-refs': 'error',
      'no-unused-components': 'error',
      'operation-operationId': 'error',
      'operation-operationId-unique': 'error',
      'path-parameters-defined': 'error',
      'path-declaration-must-exist': 'error',
      'path-not-include-query': 'error',
      'no-identical-paths': 'error',
      'no-ambiguous-paths': 'error',
      'operation-2xx-response': 'error',
      'security-defined': 'error',
      'no-invalid-media-type-examples': 'error',
      'no-invalid-parameter-examples': 'error',
      'no-invalid-schema-examples': 'error',
      'no-example-value-and-externalValue': 'error',
      'spec-components-invalid-map-name': 'error',
      'operation-4xx-response': 'off', // /healthz and /readyz have none; every operation has `default`
    },
  });
  const problems = await redocly.lint({ ref: file, config });
  for (const p of problems) {
    const loc = p.location?.[0];
    let line, column;
    if (loc?.source && loc.pointer !== undefined) {
      try {
        ({ line, col: column } = redocly.getLineColLocation(loc).start);
      } catch {
        /* the pointer is informative enough */
      }
    }
    const severity = p.severity === 'error' ? 'error' : 'warning';
    if (severity === 'error') errors++;
    else warnings++;
    console.error(`${where(file, line, column)}: ${severity} [redocly ${p.ruleId}] ${p.message}` +
      (loc?.pointer ? ` (at ${loc.pointer})` : ''));
  }
  // 3. The answers every operation of a kind may give are listed on each of them, so that a
  // client generated from one operation knows them all (their descriptions are in
  // components/responses).
  const { default: yaml } = await load('js-yaml');
  const api = yaml.load(readFileSync(file, 'utf8'));
  for (const [route, item] of Object.entries(api.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!operation?.responses) continue;
      for (const status of crossCuttingStatuses(route, operation, api.security)) {
        if (status in operation.responses) continue;
        console.error(`${file}: error [cross-cutting] ${method.toUpperCase()} ${route} does not list ${status}` +
          ` (${crossCuttingReasons[status]})`);
        errors++;
      }
    }
  }
  console.log(`${file}: OpenAPI 3.1 schema (swagger-parser) + Redocly ${version} recommended + cross-cutting responses: ` +
    `${errors} error(s), ${warnings} warning(s)`);
  return errors;
}

async function validateAsyncApi(file) {
  const { Parser, fromFile, DiagnosticSeverity } = await load('@asyncapi/parser');
  const require = createRequire(import.meta.url);
  const { version } = require('@asyncapi/parser/package.json');
  const parser = new Parser();
  const { document, diagnostics } = await fromFile(parser, file).parse();
  let errors = 0;
  let warnings = 0;
  const names = { [DiagnosticSeverity.Error]: 'error', [DiagnosticSeverity.Warning]: 'warning' };
  for (const d of diagnostics) {
    const severity = names[d.severity] ?? 'info';
    if (severity === 'error') errors++;
    else if (severity === 'warning') warnings++;
    else continue;
    const start = d.range?.start;
    const at = d.path?.length ? ` (at #/${d.path.join('/')})` : '';
    console.error(`${where(file, start && start.line + 1, start && start.character + 1)}: ${severity} [asyncapi ${d.code}] ${d.message}${at}`);
  }
  if (!document && errors === 0) {
    console.error(`${file}: the AsyncAPI parser produced no document`);
    errors++;
  }
  if (document) {
    const declared = document.version();
    if (!/^3\.0\.\d+$/.test(declared)) {
      console.error(`${file}: asyncapi is ${JSON.stringify(declared)}, expected 3.0.x`);
      errors++;
    }
  }
  console.log(`${file}: AsyncAPI (@asyncapi/parser ${version}): ${errors} error(s), ${warnings} warning(s)`);
  return errors;
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length !== 1 || args[0].startsWith('-')) usage();
  const dir = path.resolve(args[0]);
  const openapi = path.join(dir, 'openapi.yaml');
  const asyncapi = path.join(dir, 'asyncapi.yaml');
  for (const file of [openapi, asyncapi]) if (!existsSync(file)) usage(`${file} does not exist`);

  const errors = (await validateOpenApi(openapi)) + (await validateAsyncApi(asyncapi));
  if (errors) {
    console.error(`api documents: ${errors} error(s)`);
    process.exit(1);
  }
  console.log('api documents: valid');
}

main().catch((e) => {
  console.error(`validate.mjs: ${e?.stack ?? e}`);
  process.exit(1);
});

#!/usr/bin/env node
// Checks what the server answered against what the API documents promise:
//
//   node contract.mjs DOCS_DIR LOG_DIR
//
// LOG_DIR holds the *.jsonl files the integration tests write when CONFAB_CONTRACT_LOG names
// it (tests/support/contract_log.hpp): one line per HTTP exchange, WebSocket text frame
// (either way) and webhook delivery between the tests and a real server.
//
//   - An HTTP response is matched to its operation in DOCS_DIR/openapi.yaml by method and path
//     (a literal segment wins over a parameter). Its status must be listed there (`default`
//     covers only what its description names: 5xx, 413 and 431), and a JSON body must be
//     valid against that response's schema. A JSON request the server answered with 2xx
//     must be valid against the operation's request schema, and name only the operation's
//     query parameters, each valid (the server ignores others). Every response carries
//     X-Request-Id, and each header its response documents is valid against its schema
//     (and sent, when marked `required`). The web client's pages (not under /api/ and not
//     in the document) are not checked. A CORS preflight (OPTIONS) must be 204 with one
//     Access-Control-Allow-Origin.
//   - A WebSocket frame is matched by its `type` to the messages DOCS_DIR/asyncapi.yaml says
//     the server sends; it must be valid against one of them. An `ack` is paired by its id
//     with the frame its connection sent: that frame must be the client message its `type`
//     names, and the ack one of the replies of that message's operation.
//   - A webhook delivery must be a `WebhookDelivery` of openapi.yaml, and its `type` and
//     `data` the WebSocket event they name.
//
// What no test reached (operations, server messages) is listed, not failed. Each problem is
// printed once with how often it was seen and one example; exits 1 when there
// is any, 2 on bad usage, 77 (ctest's skip) when the logs hold nothing to check: the
// integration suites skip without a database. Run by ctest as `api_contract`, after them.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const yaml = require('js-yaml');
const Ajv2020 = require('ajv/dist/2020').default;
const addFormats = require('ajv-formats');

const [docsDir, logDir] = process.argv.slice(2);
if (!docsDir || !logDir) {
  console.error('usage: node contract.mjs DOCS_DIR LOG_DIR');
  process.exit(2);
}

const openapi = yaml.load(readFileSync(path.join(docsDir, 'openapi.yaml'), 'utf8'));
const asyncapi = yaml.load(readFileSync(path.join(docsDir, 'asyncapi.yaml'), 'utf8'));

// The documents are registered whole and their parts compiled through JSON pointers, so
// every `#/components/...` reference resolves inside its own document. Keywords JSON Schema
// does not know (`example`, `discriminator`) are annotations here.
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
// Their ids are their file names: asyncapi.yaml refers to ./openapi.yaml's schemas.
ajv.addSchema(openapi, 'openapi.yaml');
ajv.addSchema(asyncapi, 'asyncapi.yaml');
const compiled = new Map();
function validatorFor(ref) {
  if (!compiled.has(ref)) compiled.set(ref, ajv.compile({ $ref: ref }));
  return compiled.get(ref);
}
const pointer = (...parts) => parts.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

// The node at a JSON pointer of the document, and the pointer of where it is defined: a
// `$ref` there is followed.
function located(document, at) {
  const walk = (p) =>
    p
      .slice(1)
      .split('/')
      .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
      .reduce((node, part) => node?.[part], document);
  let node = walk(at);
  for (let hops = 0; node?.$ref && hops < 10; hops++) {
    at = node.$ref.slice(1);
    node = walk(at);
  }
  return [node, at];
}

// ----- HTTP

const routes = Object.keys(openapi.paths).map((template) => {
  const segments = template.split('/');
  return {
    template,
    literal: segments.filter((s) => !s.startsWith('{')).length,
    pattern: new RegExp(`^${segments.map((s) => (s.startsWith('{') ? '[^/]+' : s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('/')}$`),
  };
});

// The route the server's router takes: the most literal one that has the method (the server
// reads GET /messages/upload as GET /messages/{id}), else the most literal one, whose other
// methods make the answer a 405.
function routeOf(target, method) {
  const pathOnly = target.split('?')[0];
  const matching = routes.filter((r) => r.pattern.test(pathOnly)).sort((a, b) => b.literal - a.literal);
  return matching.find((r) => openapi.paths[r.template][method]) ?? matching[0];
}

// What the `default` response documents besides 5xx (components/responses/Error).
const coveredByDefault = (status) => status >= 500 || status === 413 || status === 431;

const problems = new Map();
const answered = new Set(); // "METHOD template" of every operation seen
const eventsSeen = new Set();
function problem(key, example) {
  const entry = problems.get(key) ?? { count: 0, example };
  entry.count++;
  problems.set(key, entry);
}

const describeErrors = (errors) =>
  errors
    .slice(0, 4)
    .map((e) => `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`)
    .join('; ');

// A CORS preflight is the Fetch standard's, not an operation (openapi.yaml, Conventions): it
// is 204, and a browser takes its Access-Control-Allow-Origin only as one value.
function checkPreflight(record) {
  const name = `OPTIONS (CORS preflight) ${record.status}`;
  if (record.status !== 204) return problem(`${name}: a preflight is answered 204`, record);
  if (!record.headers['x-request-id']) return problem(`${name}: no X-Request-Id`, record);
  if ((record.headers['access-control-allow-origin'] ?? '').includes(','))
    problem(`${name}: Access-Control-Allow-Origin sent more than once`, record);
}

function checkHttp(record) {
  // An answer that is not Confab's (HAProxy's own 503 page while a cluster test restarts a
  // node) is no part of the contract; Confab names itself on every response.
  if (record.headers && record.headers.server !== 'confab') return;
  // RFC 9110 8.6: no Content-Length on a 204; on a 304 it would have to be the 200's.
  if ([204, 304].includes(record.status) && 'content-length' in (record.headers ?? {}))
    problem(`${record.method} ${record.target.split('?')[0]} ${record.status}: Content-Length on a body-less answer`, record);
  const method = record.method.toLowerCase();
  if (method === 'options' && record.status !== 405) return checkPreflight(record);  // 405: not a preflight
  const route = routeOf(record.target, method);
  // The web client's pages and assets, served beside the API, are not part of it.
  if (!route && !record.target.startsWith('/api/')) return;
  const operation = route && openapi.paths[route.template][method];
  const errorBody = () => checkBody(record, '#/components/schemas/Error', `${record.method} (no route) ${record.status}`);
  if (!operation) {
    // Unknown paths and methods answer with the one error shape (openapi.yaml, Conventions).
    if ([404, 405].includes(record.status) || record.status >= 500) return errorBody();
    return problem(`${record.method} ${route?.template ?? record.target.split('?')[0]}: not documented`, record);
  }
  const name = `${record.method} ${route.template} ${record.status}`;
  answered.add(`${record.method} ${route.template}`);
  const responses = operation.responses ?? {};
  const key = String(record.status) in responses ? String(record.status) : coveredByDefault(record.status) && 'default';
  if (!key || !(key in responses)) return problem(`${name}: status not listed`, record);
  const [response, where] = located(openapi, pointer('', 'paths', route.template, method, 'responses', key));
  if (record.status < 300) {
    checkAcceptedRequest(record, route, method);
    checkAcceptedQuery(record, route, method);
  }
  checkHeaders(record, response, where, name);
  if (response?.content?.['application/json'] === undefined) {
    if (record.content_type.startsWith('application/json') && record.body !== '')
      problem(`${name}: a JSON body where none is documented`, record);
    return;
  }
  if (!record.content_type.startsWith('application/json'))
    return problem(`${name}: content type ${record.content_type || '(none)'} where JSON is documented`, record);
  checkBody(record, `openapi.yaml#${where}/content/application~1json/schema`, name);
}

// Every response carries X-Request-Id (Conventions); a header the response documents is
// valid against its schema when sent (headers are text: an integer's digits are read first).
function checkHeaders(record, response, where, name) {
  const sent = record.headers ?? {};
  if (!('X-Request-Id' in (response?.headers ?? {})) && !sent['x-request-id']) problem(`${name}: no X-Request-Id`, record);
  for (const header of Object.keys(response?.headers ?? {})) {
    const [definition, at] = located(openapi, `${where}/headers/${pointer(header)}`);
    const value = sent[header.toLowerCase()];
    if (value === undefined) {
      if (definition.required) problem(`${name}: no ${header}`, record);
      continue;
    }
    const integer = definition.schema?.type === 'integer';
    if (integer && !/^\d+$/.test(value)) {
      problem(`${name}: ${header} is not an integer`, record);
      continue;
    }
    const validate = validatorFor(`openapi.yaml#${at}/schema`);
    if (!validate(integer ? Number(value) : value))
      problem(`${name}: ${header} ${describeErrors(validate.errors)}`, record);
  }
}

// A request the server took must be one the document describes: what it accepts beyond that
// is a client developer's surprise (or a field the document forgot).
// Query parameters that security schemes carry (`access_token`), allowed wherever they are.
const securityQueryParameters = new Set(
  Object.values(openapi.components?.securitySchemes ?? {})
    .filter((scheme) => scheme.type === 'apiKey' && scheme.in === 'query')
    .map((scheme) => scheme.name));

// A query the server took names only the operation's parameters, each valid (query values
// are text: a number's or a boolean's form is read first).
function checkAcceptedQuery(record, route, method) {
  const query = new URLSearchParams(record.target.split('?')[1] ?? '');
  const item = openapi.paths[route.template];
  const declared = new Map();
  for (const [list, at] of [
    [item.parameters, pointer('', 'paths', route.template, 'parameters')],
    [item[method].parameters, pointer('', 'paths', route.template, method, 'parameters')],
  ])
    (list ?? []).forEach((_, i) => {
      const [parameter, where] = located(openapi, `${at}/${i}`);
      if (parameter.in === 'query') declared.set(parameter.name, { parameter, where });
    });
  const name = `${record.method} ${route.template} query`;
  for (const [key, value] of query) {
    const found = declared.get(key);
    if (!found) {
      if (!securityQueryParameters.has(key)) problem(`${name}: ${key} taken but not documented`, record);
      continue;
    }
    const type = found.parameter.schema?.type;
    const typed = type === 'integer' || type === 'number' ? (/^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value)
      : type === 'boolean' ? ({ true: true, false: false }[value] ?? value)
      : value;
    const validate = validatorFor(`openapi.yaml#${found.where}/schema`);
    if (!validate(typed)) problem(`${name}: ${key}=${value} taken but not valid: ${describeErrors(validate.errors)}`, record);
  }
}

function checkAcceptedRequest(record, route, method) {
  if (!record.request_content_type?.startsWith('application/json') || !record.request_body) return;
  const name = `${record.method} ${route.template} request`;
  // An operation without a request body ignores one (openapi.yaml, Conventions); an upload's
  // bytes are whatever its kind allows.
  const [requestBody, where] = located(openapi, pointer('', 'paths', route.template, method, 'requestBody'));
  if (!requestBody?.content?.['application/json']) return;
  let body;
  try {
    body = JSON.parse(record.request_body.replace(/^\uFEFF/, ''));
  } catch {
    return problem(`${name}: a body that is not JSON was taken`, record);
  }
  const validate = validatorFor(`openapi.yaml#${where}/content/application~1json/schema`);
  if (!validate(body)) problem(`${name} taken but not valid: ${describeErrors(validate.errors)}`, record);
}

function checkBody(record, ref, name) {
  let body;
  try {
    body = JSON.parse(record.body);
  } catch {
    return problem(`${name}: body is not JSON`, record);
  }
  const validate = validatorFor(ref.startsWith('#') ? `openapi.yaml${ref}` : ref);
  if (!validate(body)) problem(`${name}: ${describeErrors(validate.errors)}`, record);
}

// ----- WebSocket

const payloadOf = ({ $ref }) => {
  const [message, at] = located(asyncapi, $ref.slice(1));
  return { name: message.name, ref: `asyncapi.yaml#${located(asyncapi, `${at}/payload`)[1]}` };
};

// The messages the server sends: those of `send` operations and of every operation's reply.
const serverMessages = new Map();
// What a client sends, by type: its payload and the replies its operation names.
const clientMessages = new Map();
for (const operation of Object.values(asyncapi.operations ?? {})) {
  const replies = (operation.reply?.messages ?? []).map(payloadOf);
  const sent = (operation.messages ?? []).map(payloadOf);
  for (const { name, ref } of [...(operation.action === 'send' ? sent : []), ...replies]) {
    const refs = serverMessages.get(name) ?? new Set();
    refs.add(ref);
    serverMessages.set(name, refs);
  }
  if (operation.action === 'receive')
    for (const { name, ref } of sent) clientMessages.set(name, { ref, replies: replies.filter((r) => r.name === 'ack') });
}

// The frames each connection sent with an id and no reply yet, oldest first, by "file
// connection" and id.
const awaitingReply = new Map();
let ackedRequests = 0;
const ackedTypes = new Set();

// A frame is in the log as JSON when the client could parse it, else as its text.
function parsedFrame(record) {
  if (typeof record.frame !== 'string') return record.frame;
  try {
    return JSON.parse(record.frame);
  } catch {
    return undefined;
  }
}

// A reply (an ack or an error) takes the oldest unanswered frame its connection sent with
// its id: a test may use an id again once it has its answer.
function takeRequest(file, record, id) {
  return awaitingReply.get(`${file} ${record.connection}`)?.get(JSON.stringify(id))?.shift();
}

function checkFrame(record, file) {
  const frame = parsedFrame(record);
  if (frame === undefined) return problem('a WebSocket text frame that is not JSON', record);
  const replies = (frame.type === 'ack' || frame.type === 'error') && frame.id !== undefined;
  const request = replies ? takeRequest(file, record, frame.id) : undefined;
  if (!request || frame.type !== 'ack') return checkEvent(frame, 'frame', record);
  ackedRequests++;
  ackedTypes.add(request.type);
  // An acked request was one the document describes, and its ack the one its operation names.
  const expected = clientMessages.get(request.type);
  if (!expected) return problem(`sent ${request.type}: acked but not a documented client message`, record);
  const validateRequest = validatorFor(expected.ref);
  if (!validateRequest(request))
    problem(`sent ${request.type} acked but not valid: ${describeErrors(validateRequest.errors)}`, { sent: request, record });
  checkAgainst(frame, expected.replies.map((r) => r.ref), `ack of ${request.type}`, record);
}

// A frame the tests sent is checked when it is acked: the server took it.
function noteSent(record, file) {
  const frame = parsedFrame(record);
  if (frame?.id === undefined || typeof frame.type !== 'string') return;
  const key = `${file} ${record.connection}`;
  if (!awaitingReply.has(key)) awaitingReply.set(key, new Map());
  const waiting = awaitingReply.get(key);
  const id = JSON.stringify(frame.id);
  if (!waiting.has(id)) waiting.set(id, []);
  waiting.get(id).push(frame);
}

function checkEvent(frame, label, record) {
  eventsSeen.add(frame.type);
  const candidates = serverMessages.get(frame.type);
  if (!candidates) return problem(`${label} ${frame.type}: not a documented server message`, record);
  checkAgainst(frame, [...candidates], `${label} ${frame.type}`, record);
}

// Valid against one of the payloads `refs`; else the errors of the nearest.
function checkAgainst(frame, refs, name, record) {
  if (!refs.length) return problem(`${name}: the document names no reply`, record);
  let best;
  for (const ref of refs) {
    const validate = validatorFor(ref);
    if (validate(frame)) return;
    if (!best || validate.errors.length < best.length) best = validate.errors;
  }
  problem(`${name}: ${describeErrors(best)}`, record);
}

// A webhook's body is its event as the WebSocket frame, with the delivery's ids beside it
// (openapi.yaml, WebhookDelivery).
function checkWebhook(record) {
  checkBody(record, '#/components/schemas/WebhookDelivery', 'webhook delivery');
  let delivery;
  try {
    delivery = JSON.parse(record.body);
  } catch {
    return;
  }
  checkEvent({ type: delivery.type, data: delivery.data }, 'webhook', record);
}

// ----- the logs

let checked = 0;
for (const file of (existsSync(logDir) ? readdirSync(logDir) : []).filter((f) => f.endsWith('.jsonl'))) {
  for (const line of readFileSync(path.join(logDir, file), 'utf8').split('\n')) {
    if (!line) continue;
    let record;
    try {
      record = JSON.parse(line);
    } catch {
      // A test process killed mid-line (its test failed for that already).
      console.log(`contract.mjs: ${file}: a line cut short, skipped`);
      continue;
    }
    if (record.kind === 'ws_sent') {
      noteSent(record, file);
      continue;
    }
    if (record.kind === 'http') checkHttp(record);
    else if (record.kind === 'webhook') checkWebhook(record);
    else checkFrame(record, file);
    checked++;
  }
}
if (checked === 0) {
  console.error(`contract.mjs: nothing to check in ${logDir}`);
  process.exit(77);
}
for (const [key, { count, example }] of [...problems].sort()) {
  console.log(`${key}  (${count}×)`);
  console.log(`    e.g. ${JSON.stringify(example).slice(0, 600)}`);
}
// What no test reached is printed, not failed: a list of what the suites leave unchecked.
const operations = Object.entries(openapi.paths).flatMap(([template, item]) =>
  Object.keys(item)
    .filter((m) => ['get', 'put', 'post', 'delete', 'patch'].includes(m))
    .map((m) => `${m.toUpperCase()} ${template}`));
const unseenOperations = operations.filter((o) => !answered.has(o));
const unseenEvents = [...serverMessages.keys()].filter((t) => !eventsSeen.has(t) && t !== 'ack');
console.log(`contract.mjs: ${operations.length - unseenOperations.length} of ${operations.length} operations answered` +
  (unseenOperations.length ? `; not reached: ${unseenOperations.join(', ')}` : ''));
console.log(`contract.mjs: ${serverMessages.size - 1 - unseenEvents.length} of ${serverMessages.size - 1} server messages besides ack seen` +
  (unseenEvents.length ? `; not seen: ${unseenEvents.join(', ')}` : ''));
const unackedClientMessages = [...clientMessages.keys()].filter((t) => !ackedTypes.has(t));
console.log(`contract.mjs: ${clientMessages.size - unackedClientMessages.length} of ${clientMessages.size} client messages acked and checked` +
  (unackedClientMessages.length ? `; not: ${unackedClientMessages.join(', ')}` : ''));
console.log(`contract.mjs: ${checked} responses and frames checked (${ackedRequests} acks with the frames they answer), ` +
  `${problems.size} problems`);
process.exit(problems.size ? 1 : 0);

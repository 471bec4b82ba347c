import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfabError, NetworkError, RestClient, TimeoutError, errorFromBody, fullJitterDelay, parseRetryAfter, retryDelay } from '../../src/index.js';

const policy = { maxRetries: 3, maxRetryWaitMs: 10_000, backoff: { baseMs: 100, capMs: 1000 }, random: () => 0.5 };

test('full jitter stays below the capped exponential ceiling', () => {
  const backoff = { baseMs: 100, capMs: 1000 };
  assert.equal(fullJitterDelay(0, backoff, () => 0.999), 99);
  assert.equal(fullJitterDelay(3, backoff, () => 0.5), 400);
  assert.equal(fullJitterDelay(20, backoff, () => 0.999), 999);
  assert.equal(fullJitterDelay(5, backoff, () => 0), 0);
});

test('Retry-After in seconds or as a date', () => {
  assert.equal(parseRetryAfter('2'), 2000);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000), 6000);
  assert.equal(parseRetryAfter('soon'), undefined);
});

test('errors keep the contract code, status, details and retry hint', () => {
  const error = errorFromBody({ error: { code: 'rate_limited', message: 'slow down', details: { retry_after_ms: 1500 } } }, 429);
  assert.equal(error.code, 'rate_limited');
  assert.equal(error.status, 429);
  assert.equal(error.retryAfterMs, 1500);
  assert.equal(errorFromBody('<html>', 503).code, 'unavailable');
});

test('retry: 429 and 503 wait out Retry-After; other errors and non-repeatable calls are not retried', () => {
  const limited = new ConfabError('rate_limited', 'x', 429, {}, 2000);
  assert.equal(retryDelay(limited, 0, true, policy), 2000);
  assert.equal(retryDelay(limited, 0, false, policy), undefined, 'a POST without client_id is never repeated');
  assert.equal(retryDelay(limited, 3, true, policy), undefined, 'attempts are bounded');
  assert.equal(retryDelay(new ConfabError('rate_limited', 'x', 429, {}, 60_000), 0, true, policy), undefined, 'too long a wait is not waited');
  assert.equal(retryDelay(new ConfabError('unavailable', 'x', 503), 1, true, policy), 100);
  assert.equal(retryDelay(new ConfabError('bad_request', 'x', 400), 0, true, policy), undefined);
  assert.equal(retryDelay(new NetworkError('down'), 0, true, policy), 50);
});

function fakeFetch(responses: (Response | Error | 'hang')[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const next = responses.shift()!;
    if (next === 'hang') return new Promise((_, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)));
    if (next instanceof Error) throw next;
    return next;
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const limited = () => json(429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '0' });

test('a send with a client_id is retried after 429; one without is not', async () => {
  const message = { id: 'm1' };
  const withId = fakeFetch([limited(), json(201, message)]);
  const rest = new RestClient({ baseUrl: 'http://x', token: 't', fetch: withId.fetch });
  assert.deepEqual(await rest.sendMessage('c', { type: 'text', content: 'hi', client_id: 'k1' }), message);
  assert.equal(withId.calls.length, 2);
  assert.equal(new Headers(withId.calls[0]!.init.headers).get('authorization'), 'Bearer t');

  const without = fakeFetch([limited(), json(201, message)]);
  const once = new RestClient({ baseUrl: 'http://x', fetch: without.fetch });
  await assert.rejects(once.sendMessage('c', { type: 'text', content: 'hi' }), (e: unknown) => e instanceof ConfabError && e.code === 'rate_limited');
  assert.equal(without.calls.length, 1);
});

test('GETs are retried after a network failure; a timeout is a TimeoutError', async () => {
  const flaky = fakeFetch([new TypeError('fetch failed'), json(200, { chats: [], next_cursor: null })]);
  const rest = new RestClient({ baseUrl: 'http://x/', fetch: flaky.fetch, backoff: { baseMs: 1, capMs: 1 } });
  assert.deepEqual(await rest.listChats({ limit: 5 }), { chats: [], next_cursor: null });
  assert.equal(flaky.calls[1]!.url, 'http://x/api/v1/chats?limit=5');

  const hanging = fakeFetch(['hang']);
  const slow = new RestClient({ baseUrl: 'http://x', fetch: hanging.fetch, timeoutMs: 20, maxRetries: 0 });
  await assert.rejects(slow.me(), TimeoutError);
});

test('a file name outside ASCII goes as the multipart filename in UTF-8; an ASCII one as X-File-Name', async () => {
  const media = { id: 'media1', kind: 'file', mime_type: 'application/pdf', size_bytes: 3, sha256: 'x', file_name: 'Relatório.pdf' };
  const uploads = fakeFetch([json(201, media), json(201, media)]);
  const rest = new RestClient({ baseUrl: 'http://x', token: 't', fetch: uploads.fetch });
  await rest.uploadMedia('c', 'file', new Uint8Array([1, 2, 3]), { mimeType: 'application/pdf', fileName: 'Relatório.pdf' });
  await rest.uploadMedia('c', 'file', new Uint8Array([1, 2, 3]), { mimeType: 'application/pdf', fileName: 'report.pdf' });

  const [named, plain] = uploads.calls;
  assert.equal(new Headers(named!.init.headers).get('x-file-name'), null);
  // What goes on the wire: the body fetch serializes, with the boundary it chooses.
  const wire = new Response(named!.init.body as FormData);
  assert.match(wire.headers.get('content-type')!, /^multipart\/form-data; boundary=/);
  const bytes = Buffer.from(await wire.arrayBuffer());
  assert.ok(bytes.includes(Buffer.from('name="file"; filename="Relatório.pdf"', 'utf8')), bytes.toString('latin1'));
  assert.ok(bytes.includes(Buffer.from('Content-Type: application/pdf')));
  assert.ok(bytes.includes(Buffer.from([1, 2, 3])));

  assert.equal(new Headers(plain!.init.headers).get('x-file-name'), 'report.pdf');
  assert.equal(new Headers(plain!.init.headers).get('content-type'), 'application/pdf');
  assert.deepEqual(plain!.init.body, new Uint8Array([1, 2, 3]));
});

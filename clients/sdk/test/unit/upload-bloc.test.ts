import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UploadBloc, type UploadState } from '../../src/index.js';
import { fakeServer, refusal, settled } from '../support/fake-server.js';

/** A client whose REST is `fetch`, its connection up (uploads wait for it, as the outbox does). */
async function clientWith(fetch: typeof globalThis.fetch) {
  const server = fakeServer(undefined, { fetch });
  await server.online();
  return server.client;
}

const until = (bloc: UploadBloc, predicate: (s: UploadState) => boolean) =>
  new Promise<UploadState>((resolve) => {
    const stop = bloc.subscribe((s) => {
      if (predicate(s)) {
        queueMicrotask(() => stop());
        resolve(s);
      }
    });
  });

const media = { id: 'media1', kind: 'file', mime_type: 'text/plain', size_bytes: 3, sha256: 'x', file_name: 'a.txt' };

test('an upload that hits a network failure is retried with back-off, reporting progress', async () => {
  let calls = 0;
  const fetch = (async (_url: string, init: RequestInit) => {
    calls++;
    const reader = (init.body as ReadableStream<Uint8Array>).getReader();
    while (!(await reader.read()).done) { /* the transport takes the bytes */ }
    if (calls === 1) throw new TypeError('network down');
    return new Response(JSON.stringify(media), { status: 201 });
  }) as unknown as typeof globalThis.fetch;
  const client = await clientWith(fetch);
  const bloc = new UploadBloc(client, { backoff: { baseMs: 1, capMs: 1 } });
  const progress: number[] = [];
  bloc.subscribe((s) => s.uploads[0] && progress.push(s.uploads[0].progress));
  await bloc.add({ type: 'add', upload: { chatId: 'c', kind: 'file', mimeType: 'text/plain', bytes: new Uint8Array([1, 2, 3]) } });
  const done = await until(bloc, (s) => s.uploads[0]?.status === 'done');
  assert.equal(done.uploads[0]!.attempts, 2);
  assert.equal(done.uploads[0]!.media?.id, 'media1');
  assert.ok(progress.includes(1));
  bloc.dispose();
  client.stop();
});

test('a cancelled upload stops and can be retried', async () => {
  let release: (() => void) | undefined;
  const fetch = ((_url: string, init: RequestInit) => new Promise((resolve, reject) => {
    init.signal!.addEventListener('abort', () => reject(init.signal!.reason));
    release = () => resolve(new Response(JSON.stringify(media), { status: 201 }));
  })) as unknown as typeof globalThis.fetch;
  const client = await clientWith(fetch);
  const bloc = new UploadBloc(client);
  await bloc.add({ type: 'add', upload: { chatId: 'c', kind: 'file', mimeType: 'text/plain', bytes: new Uint8Array([1]) } });
  const id = (await until(bloc, (s) => s.uploads[0]?.status === 'uploading')).uploads[0]!.id;
  await bloc.add({ type: 'cancel', id });
  assert.equal(bloc.state.uploads[0]!.status, 'cancelled');
  await bloc.add({ type: 'retry', id });
  await until(bloc, (s) => s.uploads[0]?.status === 'uploading');
  release!();
  await until(bloc, (s) => s.uploads[0]?.status === 'done');
  bloc.dispose();
  client.stop();
});

test('a live photo goes as one multipart body with the still and its video, also when retried', async () => {
  const bodies: FormData[] = [];
  const fetch = (async (_url: string, init: RequestInit) => {
    bodies.push(init.body as FormData);
    if (bodies.length === 1) throw new TypeError('network down');
    return new Response(JSON.stringify({ ...media, kind: 'image' }), { status: 201 });
  }) as unknown as typeof globalThis.fetch;
  const client = await clientWith(fetch);
  const bloc = new UploadBloc(client, { backoff: { baseMs: 1, capMs: 1 } });
  const liveVideo = { bytes: new Uint8Array([4, 5, 6, 7]), mimeType: 'video/webm' };
  await bloc.add({ type: 'add', upload: { chatId: 'c', kind: 'image', mimeType: 'image/png', bytes: new Uint8Array([1, 2, 3]), liveVideo } });
  assert.deepEqual(bloc.state.uploads[0]!.liveVideo, { mimeType: 'video/webm', size: 4 });
  assert.equal(bloc.state.uploads[0]!.size, 7, 'both parts count');
  const done = await until(bloc, (s) => s.uploads[0]?.status === 'done');
  assert.equal(done.uploads[0]!.attempts, 2);
  assert.equal(done.uploads[0]!.progress, 1);
  assert.equal(bodies.length, 2);
  for (const body of bodies) {
    assert.ok(body instanceof FormData, 'multipart/form-data, its boundary set by fetch');
    const still = body.get('file') as Blob;
    const video = body.get('live_video') as Blob;
    assert.equal(still.type, 'image/png');
    assert.deepEqual([...new Uint8Array(await still.arrayBuffer())], [1, 2, 3]);
    assert.equal(video.type, 'video/webm');
    assert.deepEqual([...new Uint8Array(await video.arrayBuffer())], [4, 5, 6, 7]);
  }
  bloc.dispose();
  client.stop();
});

test('offline, an upload waits for the connection instead of failing, and goes once it is back; failures that find it down do not count', async () => {
  let calls = 0;
  let fail: (() => void) | undefined;
  const fetch = (async () => {
    calls++;
    fail?.();
    if (fail) { fail = undefined; throw new TypeError('Failed to fetch'); }
    return new Response(JSON.stringify(media), { status: 201 });
  }) as unknown as typeof globalThis.fetch;
  const { client, socket } = fakeServer(undefined, { fetch });
  await client.start(); // not connected yet
  const bloc = new UploadBloc(client, { maxAttempts: 1, backoff: { baseMs: 1, capMs: 1 } });
  const settledStatus = (s: UploadState) => ['offline', 'failed', 'done'].includes(s.uploads[0]?.status ?? '');
  await bloc.add({ type: 'add', upload: { chatId: 'c', kind: 'file', mimeType: 'text/plain', bytes: new Uint8Array([1]) } });
  assert.equal((await until(bloc, settledStatus)).uploads[0]!.status, 'offline');
  assert.equal(calls, 0, 'nothing is tried while offline');

  // Back, but the connection drops during the attempt: it waits again (maxAttempts is 1).
  const first = await socket(0);
  fail = () => first.closeWith(1006);
  first.open();
  await until(bloc, (s) => s.uploads[0]?.status === 'uploading');
  const waiting = await until(bloc, settledStatus);
  assert.equal(waiting.uploads[0]!.status, 'offline');
  assert.equal(calls, 1);

  (await socket(1)).open();
  const done = await until(bloc, (s) => s.uploads[0]?.status === 'done' || s.uploads[0]?.status === 'failed');
  assert.equal(done.uploads[0]!.status, 'done');
  assert.equal(done.uploads[0]!.attempts, 2);
  bloc.dispose();
  client.stop();
});

test('a failed upload says why in words for the user, with the code', async () => {
  let answer: () => Response = () => refusal(413, 'payload_too_large');
  const fetch = (async () => answer()) as unknown as typeof globalThis.fetch;
  const client = await clientWith(fetch);
  const bloc = new UploadBloc(client, { maxAttempts: 2, backoff: { baseMs: 1, capMs: 1 } });
  const over = (s: UploadState) => s.uploads.every((u) => u.status === 'failed' || u.status === 'done');
  await bloc.add({ type: 'add', upload: { chatId: 'c', kind: 'file', mimeType: 'text/plain', bytes: new Uint8Array([1]) } });
  let [upload] = (await until(bloc, over)).uploads;
  assert.deepEqual([upload!.status, upload!.error, upload!.errorCode], ['failed', 'The file is too large to send.', 'payload_too_large']);

  // A server that never answers while the connection says it is up: given up after maxAttempts.
  answer = () => { throw new TypeError('Failed to fetch'); };
  await bloc.add({ type: 'retry', id: upload!.id });
  await settled();
  [upload] = (await until(bloc, over)).uploads;
  assert.equal(upload!.attempts, 2);
  assert.deepEqual([upload!.status, upload!.errorCode], ['failed', 'network']);
  assert.equal(upload!.error, 'The server could not be reached. Try again when you are back online.');
  assert.doesNotMatch(upload!.error!, /POST|fetch/);
  bloc.dispose();
  client.stop();
});

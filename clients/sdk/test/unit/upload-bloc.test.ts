import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfabClient, UploadBloc, type UploadState } from '../../src/index.js';

function clientWith(fetch: typeof globalThis.fetch) {
  return new ConfabClient({ baseUrl: 'http://x', token: 't', userId: 'u', fetch, webSocketFactory: () => { throw new Error('no socket'); } });
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
  const bloc = new UploadBloc(clientWith(fetch), { backoff: { baseMs: 1, capMs: 1 } });
  const progress: number[] = [];
  bloc.subscribe((s) => s.uploads[0] && progress.push(s.uploads[0].progress));
  await bloc.add({ type: 'add', upload: { chatId: 'c', kind: 'file', mimeType: 'text/plain', bytes: new Uint8Array([1, 2, 3]) } });
  const done = await until(bloc, (s) => s.uploads[0]?.status === 'done');
  assert.equal(done.uploads[0]!.attempts, 2);
  assert.equal(done.uploads[0]!.media?.id, 'media1');
  assert.ok(progress.includes(1));
  bloc.dispose();
});

test('a cancelled upload stops and can be retried', async () => {
  let release: (() => void) | undefined;
  const fetch = ((_url: string, init: RequestInit) => new Promise((resolve, reject) => {
    init.signal!.addEventListener('abort', () => reject(init.signal!.reason));
    release = () => resolve(new Response(JSON.stringify(media), { status: 201 }));
  })) as unknown as typeof globalThis.fetch;
  const bloc = new UploadBloc(clientWith(fetch));
  await bloc.add({ type: 'add', upload: { chatId: 'c', kind: 'file', mimeType: 'text/plain', bytes: new Uint8Array([1]) } });
  const id = (await until(bloc, (s) => s.uploads[0]?.status === 'uploading')).uploads[0]!.id;
  await bloc.add({ type: 'cancel', id });
  assert.equal(bloc.state.uploads[0]!.status, 'cancelled');
  await bloc.add({ type: 'retry', id });
  await until(bloc, (s) => s.uploads[0]?.status === 'uploading');
  release!();
  await until(bloc, (s) => s.uploads[0]?.status === 'done');
  bloc.dispose();
});

test('a live photo goes as one multipart body with the still and its video, also when retried', async () => {
  const bodies: FormData[] = [];
  const fetch = (async (_url: string, init: RequestInit) => {
    bodies.push(init.body as FormData);
    if (bodies.length === 1) throw new TypeError('network down');
    return new Response(JSON.stringify({ ...media, kind: 'image' }), { status: 201 });
  }) as unknown as typeof globalThis.fetch;
  const bloc = new UploadBloc(clientWith(fetch), { backoff: { baseMs: 1, capMs: 1 } });
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
});

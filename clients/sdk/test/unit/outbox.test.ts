import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfabError, KeyValueOutboxStorage, MemoryOutboxStorage, NetworkError, Outbox, type MessageModel, type OutboxChange, type OutboxStorage, type SendMessageRequest } from '../../src/index.js';

function harness(reply: (request: SendMessageRequest, attempt: number) => Promise<void>, storage: OutboxStorage = new MemoryOutboxStorage()) {
  const sent: string[] = [];
  let online = true;
  let n = 0;
  const outbox = new Outbox({
    storage,
    canSend: () => online,
    backoff: { baseMs: 1, capMs: 1 },
    newClientId: () => `k${++n}`,
    send: async (chatId, request) => {
      sent.push(`${chatId}:${request.content}:${request.client_id}`);
      await reply(request, sent.length);
      return { id: request.client_id, chat_id: chatId, content: request.content, client_id: request.client_id } as MessageModel;
    },
  });
  const delivered = () => new Promise<OutboxChange>((resolve) => {
    const stop = outbox.subscribe((c) => { if (c.kind === 'delivered') { stop(); resolve(c); } });
  });
  const drained = () => new Promise<void>((resolve) => {
    if (outbox.entries().every((e) => e.status === 'failed')) return resolve();
    const stop = outbox.subscribe(() => { if (outbox.entries().every((e) => e.status === 'failed')) { stop(); resolve(); } });
  });
  return { outbox, sent, delivered, drained, setOnline: (value: boolean) => { online = value; } };
}

test('entries are shown at once and sent one at a time, in order, with their client_id', async () => {
  const { outbox, sent, drained } = harness(async () => {});
  const first = await outbox.enqueue('c', { type: 'text', content: 'a' });
  await outbox.enqueue('c', { type: 'text', content: 'b' });
  assert.equal(first.status, 'pending');
  assert.equal(first.request.client_id, 'k1');
  await drained();
  assert.deepEqual(sent, ['c:a:k1', 'c:b:k2']);
});

test('a network failure keeps the entry and resends it with the same client_id', async () => {
  const { outbox, sent, drained } = harness(async (_, attempt) => {
    if (attempt === 1) throw new NetworkError('connection lost');
  });
  await outbox.enqueue('c', { type: 'text', content: 'a' });
  await outbox.enqueue('c', { type: 'text', content: 'b' });
  await drained();
  assert.deepEqual(sent, ['c:a:k1', 'c:a:k1', 'c:b:k2']);
});

test('offline entries wait for wake()', async () => {
  const h = harness(async () => {});
  h.setOnline(false);
  await h.outbox.enqueue('c', { type: 'text', content: 'a' });
  assert.deepEqual(h.sent, []);
  h.setOnline(true);
  const delivered = h.delivered();
  h.outbox.wake();
  await delivered;
  assert.deepEqual(h.sent, ['c:a:k1']);
});

test('a refusal marks the entry failed with the reason; retry and discard', async () => {
  let refuse = true;
  const { outbox, sent, drained } = harness(async (request) => {
    if (refuse && request.content === 'bad') throw new ConfabError('forbidden', 'only admins can post', 403);
  });
  await outbox.enqueue('c', { type: 'text', content: 'bad' });
  await outbox.enqueue('c', { type: 'text', content: 'good' });
  await drained();
  const [failed] = outbox.entries();
  assert.equal(failed!.status, 'failed');
  assert.deepEqual(failed!.error, { code: 'forbidden', message: 'only admins can post' });
  assert.deepEqual(sent, ['c:bad:k1', 'c:good:k2']);
  refuse = false;
  await outbox.retry('k1');
  await drained();
  assert.equal(outbox.entries().length, 0);

  refuse = true;
  await outbox.enqueue('c', { type: 'text', content: 'bad' });
  await drained();
  await outbox.discard(outbox.entries()[0]!.client_id);
  assert.equal(outbox.entries().length, 0);
});

test('entries survive a reload; one that was in flight is sent again', async () => {
  const storage = new MemoryOutboxStorage();
  await storage.save({ client_id: 'old', chat_id: 'c', request: { type: 'text', content: 'x', client_id: 'old' }, status: 'sending', attempts: 1, created_at: '', position: 7 });
  const { outbox, sent, drained } = harness(async () => {}, storage);
  await outbox.load();
  await drained();
  assert.deepEqual(sent, ['c:x:old']);
  assert.deepEqual(await storage.load(), []);
});

test('a Web Storage backed outbox keeps entries across instances (a page reload)', async () => {
  const values = new Map<string, string>();
  const store = { getItem: (k: string) => values.get(k) ?? null, setItem: (k: string, v: string) => void values.set(k, v) };
  const first = harness(async () => {}, new KeyValueOutboxStorage(store));
  first.setOnline(false);
  await first.outbox.enqueue('c', { type: 'text', content: 'kept' });
  const second = harness(async () => {}, new KeyValueOutboxStorage(store));
  await second.outbox.load();
  await second.drained();
  assert.deepEqual(second.sent, ['c:kept:k1']);
  assert.equal(values.get('confab.outbox'), '{}');
});

test('a send made before the stored outbox is loaded goes after what the last session left', async () => {
  const storage = new MemoryOutboxStorage();
  for (const [id, position] of [['old1', 0], ['old2', 1]] as const)
    await storage.save({ client_id: id, chat_id: 'c', request: { type: 'text', content: id, client_id: id }, status: 'pending', attempts: 0, created_at: '', position });
  const h = harness(async () => {}, storage);
  h.setOnline(false);
  await h.outbox.enqueue('c', { type: 'text', content: 'new' }); // the client was still starting
  await h.outbox.load();
  assert.deepEqual(h.outbox.entries().map((e) => e.request.content), ['old1', 'old2', 'new']);
  assert.deepEqual((await storage.load()).sort((a, b) => a.position - b.position).map((e) => e.client_id), ['old1', 'old2', 'k1']);
  h.setOnline(true);
  h.outbox.wake();
  await h.drained();
  assert.deepEqual(h.sent, ['c:old1:old1', 'c:old2:old2', 'c:new:k1']);
});

// A send too large for one WebSocket frame goes over REST (same client_id), and a 1009 close
// never makes the outbox send the same frame again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutboxEntry } from '../../src/index.js';
import { fakeServer, json, refusal, settled, type RestCall } from '../support/fake-server.js';
import { message } from '../support/models.js';

const stored = (call: RestCall, seq: number) => json(201, message(seq, { client_id: (call.json as { client_id: string }).client_id }));

const until = async (check: () => boolean) => {
  while (!check()) await settled();
};

test('a text whose frame passes the 64 KiB frame limit goes over REST with its client_id; a small one over the socket', async () => {
  const server = fakeServer((call) => (call.method === 'POST' && call.path === '/chats/c1/messages' ? stored(call, 1) : refusal(404, 'not_found')));
  const socket = await server.online();
  const big = await server.client.send('c1', { type: 'text', content: 'x'.repeat(70_000) });
  await until(() => server.client.outbox.entries().length === 0);
  assert.deepEqual(server.calls.map((c) => `${c.method} ${c.path}`), ['POST /chats/c1/messages']);
  assert.equal((server.calls[0]!.json as { client_id: string }).client_id, big.client_id);
  assert.deepEqual(socket.sentOf('message.send'), [], 'never on the socket');

  await server.client.send('c1', { type: 'text', content: 'small' });
  socket.ack(await socket.request('message.send'), { message: message(2) });
  assert.equal(server.calls.length, 1);
  server.client.stop();
});

test('the frame limit is an option; REST refusing the message marks it failed, once', async () => {
  const server = fakeServer(() => refusal(413, 'payload_too_large'), { maxFrameBytes: 1000 });
  const socket = await server.online();
  await server.client.send('c1', { type: 'text', content: 'y'.repeat(1000) });
  await until(() => server.client.outbox.entries()[0]?.status === 'failed');
  assert.equal(server.client.outbox.entries()[0]!.error?.code, 'payload_too_large');
  assert.equal(server.calls.length, 1);
  assert.deepEqual(socket.sentOf('message.send'), []);
  server.client.stop();
});

test('after a 1009 close the frame it was for goes over REST, never again on a socket; the sends after it are resent', async () => {
  const server = fakeServer((call) => (call.path === '/chats/c1/messages' ? refusal(413, 'payload_too_large') : refusal(404, 'not_found')));
  const first = await server.online();
  // The server's limit is lower than the client's: the frame is sent, and the server closes for it.
  const big = await server.client.send('c1', { type: 'text', content: 'z'.repeat(5000) });
  await first.request('message.send');
  const small = await server.client.send('c2', { type: 'text', content: 'fine' });
  await first.request('message.send');
  first.closeWith(1009);

  const second = await server.socket(1);
  second.open();
  const resent = await second.request('message.send');
  assert.equal((resent.data as { client_id: string }).client_id, small.client_id, 'the send after it is sent again');
  second.ack(resent, { message: message(1, { chat_id: 'c2', client_id: small.client_id }) });
  await until(() => server.client.outbox.entries().every((e) => e.status === 'failed'));
  const [failed] = server.client.outbox.entries() as [OutboxEntry];
  assert.equal(failed.client_id, big.client_id);
  assert.equal(failed.error?.code, 'payload_too_large');
  assert.deepEqual(server.calls.map((c) => `${c.method} ${c.path}`), ['POST /chats/c1/messages']);

  // Retrying it goes straight to REST: the connection learned the server's limit.
  await server.client.outbox.retry(big.client_id);
  await until(() => server.calls.length === 2 && server.client.outbox.entries()[0]!.status === 'failed');
  const sentOnSockets = server.sockets.flatMap((s) => s.sentOf('message.send')).filter((f) => f.data.client_id === big.client_id);
  assert.equal(sentOnSockets.length, 1, 'the oversized frame went on a socket once');
  assert.equal(server.client.state, 'online');
  server.client.stop();
});

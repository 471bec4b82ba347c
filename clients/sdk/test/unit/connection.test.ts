import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Connection, ConfabError, NetworkError, type ConnectionState, type WebSocketLike } from '../../src/index.js';

class FakeSocket implements WebSocketLike {
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  sent: { type: string; id?: string; data: unknown }[] = [];
  send(data: string) { this.sent.push(JSON.parse(data)); }
  close() {}
  open() { this.onopen?.({}); }
  receive(frame: unknown) { this.onmessage?.({ data: JSON.stringify(frame) }); }
  drop(code = 1006) { this.onclose?.({ code, reason: '' }); }
}

function connection(options: { heartbeatMs?: number; requestTimeoutMs?: number; connectTimeoutMs?: number } = {}) {
  const sockets: FakeSocket[] = [];
  const states: ConnectionState[] = [];
  const opened = new Set<(socket: FakeSocket) => void>();
  const c = new Connection({
    url: 'ws://x/api/v1/ws', token: 't', backoff: { baseMs: 1, capMs: 5 }, ...options,
    webSocketFactory: () => {
      const socket = new FakeSocket();
      sockets.push(socket);
      queueMicrotask(() => opened.forEach((f) => f(socket)));
      return socket;
    },
  });
  c.onState((s) => states.push(s));
  const nextSocket = () => new Promise<FakeSocket>((resolve) => {
    const f = (s: FakeSocket) => { opened.delete(f); resolve(s); };
    opened.add(f);
  });
  return { c, sockets, states, nextSocket };
}

test('states go connecting → online → offline → connecting → online, and reopens are reported', async () => {
  const { c, states, nextSocket } = connection();
  const opens: boolean[] = [];
  c.onOpen(({ reconnected }) => opens.push(reconnected));
  const first = nextSocket();
  c.start();
  (await first).open();
  const second = nextSocket();
  (await first).drop();
  (await second).open();
  assert.deepEqual(states, ['connecting', 'online', 'offline', 'connecting', 'online']);
  assert.deepEqual(opens, [false, true]);
  c.stop();
});

test('requests are answered by id; errors and lost connections reject', async () => {
  const { c, nextSocket } = connection();
  const socketReady = nextSocket();
  c.start();
  const socket = await socketReady;
  socket.open();
  const ack = c.request('read.mark', { chat_id: 'c', seq: 3 });
  const refused = c.request('message.delete', { message_id: 'm' });
  const lost = c.request('ping', {});
  socket.receive({ type: 'ack', id: socket.sent[0]!.id, data: {} });
  socket.receive({ type: 'error', id: socket.sent[1]!.id, error: { code: 'not_found', message: 'message not found' } });
  assert.deepEqual(await ack, {});
  await assert.rejects(refused, (e: unknown) => e instanceof ConfabError && e.code === 'not_found');
  socket.drop();
  await assert.rejects(lost, NetworkError);
  await assert.rejects(c.request('ping', {}), NetworkError, 'offline requests fail at once');
  c.stop();
});

test('a quiet connection is pinged, and dropped when the ping is not answered', async () => {
  const { c, nextSocket, states } = connection({ heartbeatMs: 5, requestTimeoutMs: 20 });
  const first = nextSocket();
  c.start();
  const socket = await first;
  const second = nextSocket();
  socket.open();
  await second;
  assert.equal(socket.sent[0]!.type, 'ping');
  assert.ok(states.includes('offline'));
  c.stop();
});

test('a revoked token (4001) stops reconnecting', async () => {
  const { c, nextSocket, sockets } = connection();
  const first = nextSocket();
  const closed = new Promise((resolve) => c.onFinalClose(resolve));
  c.start();
  (await first).open();
  (await first).drop(4001);
  await closed;
  assert.equal(c.state, 'offline');
  assert.equal(sockets.length, 1);
});

test('events without an id go to the event listeners', async () => {
  const { c, nextSocket } = connection();
  const first = nextSocket();
  const events: string[] = [];
  c.onEvent((e) => events.push(e.type));
  c.start();
  const socket = await first;
  socket.open();
  socket.receive({ type: 'typing.update', data: { chat_id: 'c', user_id: 'u', is_typing: true } });
  assert.deepEqual(events, ['typing.update']);
  c.stop();
});

test('an attempt that fails before opening asks whether the token is still good: refused is final, like 4001', async () => {
  let checks = 0;
  const sockets: FakeSocket[] = [];
  const c = new Connection({
    url: 'ws://x/api/v1/ws', token: 't', backoff: { baseMs: 1, capMs: 1 },
    webSocketFactory: () => {
      const socket = new FakeSocket();
      sockets.push(socket);
      // The browser sees an upgrade refused with 401 as close 1006.
      queueMicrotask(() => socket.drop(1006));
      return socket;
    },
    checkToken: async () => ++checks < 2,
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => c.onFinalClose(resolve));
  c.start();
  const close = await closed;
  assert.equal(close.code, 1006);
  assert.match(close.reason, /401/);
  assert.equal(checks, 2, 'a token still good lets it reconnect; the next failure asks again');
  const attempts = sockets.length;
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(sockets.length, attempts, 'no more attempts');
  assert.equal(c.state, 'offline');
});

test('a token check that cannot reach the server does not stop reconnecting', async () => {
  let checks = 0;
  let attempts = 0;
  const c = new Connection({
    url: 'ws://x/api/v1/ws', token: 't', backoff: { baseMs: 1, capMs: 1 },
    webSocketFactory: () => {
      attempts++;
      const socket = new FakeSocket();
      queueMicrotask(() => socket.drop(1006));
      return socket;
    },
    checkToken: async () => { checks++; throw new NetworkError('down'); },
  });
  let final = false;
  c.onFinalClose(() => { final = true; });
  c.start();
  while (checks < 3) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.equal(final, false);
  assert.ok(attempts >= 3);
  c.stop();
});

test('an attempt whose upgrade is never answered is given up after connectTimeoutMs, and the next one goes ahead', { timeout: 5000 }, async () => {
  const { c, sockets, states, nextSocket } = connection({ connectTimeoutMs: 20 });
  const first = nextSocket();
  c.start();
  await first;
  // The first attempt hangs (a proxy that took the TCP connection and forwards nothing).
  const second = await nextSocket();
  assert.equal(sockets.length, 2);
  assert.deepEqual(states, ['connecting', 'offline', 'connecting']);
  second.open();
  assert.equal(c.state, 'online');
  c.stop();
});

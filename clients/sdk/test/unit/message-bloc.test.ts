import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfabClient, MessageBloc, type WebSocketLike } from '../../src/index.js';

/** A socket that opens at once and acks every request, recording what was sent. */
class AckingSocket implements WebSocketLike {
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  readonly sent: string[] = [];
  private readonly waiters = new Set<() => void>();
  constructor() {
    queueMicrotask(() => this.onopen?.({}));
  }
  send(data: string) {
    const frame = JSON.parse(data) as { type: string; id: string };
    this.sent.push(frame.type);
    const reply = frame.type === 'message.send' ? { message: { id: 'm1', chat_id: 'chat', seq: 1, version: 1 } } : {};
    queueMicrotask(() => this.onmessage?.({ data: JSON.stringify({ type: 'ack', id: frame.id, data: reply }) }));
    for (const waiter of this.waiters) waiter();
  }
  close() {}
  /** Resolves once `count` frames of `type` have been sent. */
  whenSent(type: string, count = 1) {
    return new Promise<void>((resolve) => {
      const check = () => {
        if (this.sent.filter((t) => t === type).length < count) return;
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }
}

test('typing.start is sent at most once per interval, and typing.stop when the user goes idle or sends', async () => {
  let socket: AckingSocket | undefined;
  const client = new ConfabClient({
    baseUrl: 'http://x', token: 't', userId: 'me',
    fetch: (async () => new Response('{"messages":[],"next_cursor":null}')) as unknown as typeof fetch,
    webSocketFactory: () => (socket = new AckingSocket()),
  });
  const online = new Promise<void>((resolve) => client.connection.onState((s) => s === 'online' && resolve()));
  await client.start();
  await online;
  const bloc = new MessageBloc(client, 'chat', { typingIntervalMs: 60_000, typingIdleMs: 10 });
  for (let i = 0; i < 5; i++) await bloc.add({ type: 'input' });
  assert.deepEqual(socket!.sent, ['typing.start']);
  await socket!.whenSent('typing.stop');
  assert.deepEqual(socket!.sent, ['typing.start', 'typing.stop']);

  await bloc.add({ type: 'input' });
  await bloc.add({ type: 'send', request: { type: 'text', content: 'hi' } });
  await socket!.whenSent('message.send');
  assert.deepEqual(socket!.sent.slice(2), ['typing.start', 'typing.stop', 'message.send']);
  bloc.dispose();
  client.stop();
});

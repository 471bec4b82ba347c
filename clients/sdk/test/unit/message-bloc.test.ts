import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfabClient, MessageBloc, type WebSocketLike } from '../../src/index.js';
import { fakeServer, json, refusal, settled } from '../support/fake-server.js';
import { chat, message } from '../support/models.js';

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

/** A chat of 1000 messages: its newest page is 951-1000, older pages as asked. */
function history() {
  return fakeServer((call) => {
    const page = /^\/chats\/c1\/messages\?(.*)$/.exec(call.path);
    if (!page) return refusal(404, 'not_found');
    const query = new URLSearchParams(page[1]);
    const before = Number(query.get('before_seq') ?? 1001);
    const seqs = Array.from({ length: 50 }, (_, i) => before - 1 - i).filter((seq) => seq > 0);
    return json(200, { messages: seqs.map((seq) => message(seq)), next_cursor: seqs.at(-1)! > 1 ? seqs.at(-1) : null });
  });
}

test('a change to a message older than the window stays out of it, so loadOlder still pages from the window', async () => {
  const server = history();
  const socket = await server.online();
  const bloc = new MessageBloc(server.client, 'c1');
  await bloc.add({ type: 'open' });
  assert.equal(bloc.state.messages[0]!.seq, 951);

  socket.push('message.updated', { message: message(900, { version: 1001, content: 'edited long ago' }) });
  socket.push('message.updated', { message: message(960, { version: 1002, content: 'edited in view' }) });
  await settled();
  assert.equal(bloc.state.messages[0]!.seq, 951, 'no hole: 900 is not shown');
  assert.equal(bloc.state.messages.find((m) => m.seq === 960)!.content, 'edited in view');

  await bloc.add({ type: 'loadOlder' });
  assert.match(server.calls.at(-1)!.path, /before_seq=951/);
  assert.deepEqual(bloc.state.messages.slice(0, 2).map((m) => m.seq), [901, 902]);
  bloc.dispose();
  server.client.stop();
});

test('thread replies stay out of the main timeline; new main-timeline messages join it at the live end', async () => {
  const server = history();
  const socket = await server.online();
  const bloc = new MessageBloc(server.client, 'c1');
  await bloc.add({ type: 'open' });
  socket.push('message.new', { message: message(1001, { thread_root_id: 'm960' }) });
  socket.push('message.new', { message: message(1002) });
  await settled();
  assert.deepEqual(bloc.state.messages.slice(-2).map((m) => m.seq), [1000, 1002]);

  // Reopened from the cache, which keeps the reply for its thread: still out.
  const reopened = new MessageBloc(server.client, 'c1');
  const cachedFirst = new Promise<number[]>((resolve) => {
    const stop = reopened.subscribe((s) => { if (s.loading) { resolve(s.messages.map((m) => m.seq)); queueMicrotask(() => stop()); } });
  });
  await reopened.add({ type: 'open' });
  assert.ok(!(await cachedFirst).includes(1001));
  bloc.dispose();
  reopened.dispose();
  server.client.stop();
});

test('who is typing is forgotten when the connection drops, and stays so after the reconnect', async () => {
  const server = fakeServer(() => json(200, { messages: [], next_cursor: null }));
  const socket = await server.online();
  const bloc = new MessageBloc(server.client, 'c1');
  socket.push('typing.update', { chat_id: 'c1', user_id: 'ann', is_typing: true });
  await settled();
  assert.deepEqual(bloc.state.typing, ['ann']);
  socket.closeWith(1006);
  assert.deepEqual(bloc.state.typing, []);
  (await server.socket(1)).open();
  await settled();
  assert.deepEqual(bloc.state.typing, []);
  bloc.dispose();
  server.client.stop();
});

test('the newest seq known counts thread replies, which stay out of the window but are unread until marked read', async () => {
  const server = history();
  const socket = await server.online();
  // A thread reply came after the newest main-timeline message (the chat list knew it).
  await server.client.cache.putChats([chat('c1', { last_seq: 1003 })]);
  const bloc = new MessageBloc(server.client, 'c1');
  await bloc.add({ type: 'open' });
  assert.equal(bloc.state.messages.at(-1)!.seq, 1000);
  assert.equal(bloc.state.lastSeq, 1003);
  socket.push('message.new', { message: message(1004, { thread_root_id: 'm960', version: 1004 }) });
  await settled();
  assert.equal(bloc.state.messages.at(-1)!.seq, 1000, 'the reply stays out of the window');
  assert.equal(bloc.state.lastSeq, 1004);
  bloc.dispose();
  server.client.stop();
});

test('a delivered send is shown at every moment: as its outbox entry until the message takes its place', async () => {
  const server = fakeServer(() => json(200, { messages: [], next_cursor: null }));
  const socket = await server.online();
  const bloc = new MessageBloc(server.client, 'c1');
  await bloc.add({ type: 'open' });
  const shownAs: string[] = [];
  bloc.subscribe(({ messages, outgoing }) => {
    const asMessage = messages.some((m) => m.content === 'hello');
    const asEntry = outgoing.some((e) => e.request.content === 'hello');
    shownAs.push(asMessage && asEntry ? 'twice' : asMessage ? 'message' : asEntry ? 'entry' : 'nothing');
  });
  await bloc.add({ type: 'send', request: { type: 'text', content: 'hello' } });
  const frame = await socket.request('message.send');
  socket.ack(frame, { message: message(1, { chat_id: 'c1', sender_id: 'me', content: 'hello', client_id: frame.data.client_id as string }) });
  await settled();
  assert.equal(shownAs.at(-1), 'message');
  assert.deepEqual(shownAs.filter((how, i) => i === 0 || how !== shownAs[i - 1]), ['nothing', 'entry', 'message']);
  bloc.dispose();
  server.client.stop();
});

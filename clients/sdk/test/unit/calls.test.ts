import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CallSignalling, Connection, ConfabError, isCallEvent, rtcConfiguration, type CallEvent, type ServerEvent, type WebSocketLike } from '../../src/index.js';

class FakeSocket implements WebSocketLike {
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  sent: { type: string; id: string; data: unknown }[] = [];
  send(data: string) { this.sent.push(JSON.parse(data)); }
  close() {}
  receive(frame: unknown) { this.onmessage?.({ data: JSON.stringify(frame) }); }
}

function online() {
  const socket = new FakeSocket();
  const connection = new Connection({ url: 'ws://x/api/v1/ws', token: 't', webSocketFactory: () => socket });
  connection.start();
  socket.onopen?.({});
  return { connection, socket, calls: new CallSignalling(connection) };
}

const call = {
  id: 'call-1', chat_id: 'chat-1', kind: 'video', state: 'ringing', caller_id: 'ann', started_at: '2026-01-01T00:00:00Z',
  answered_at: null, ended_at: null, outcome: null, duration_ms: 0,
  participants: [{ user_id: 'ann', screen_sharing: false, connected: true }], ringing: ['bob'],
} as const;

test('each request sends its call.* frame and resolves with the ack (the call where there is one)', async () => {
  const { connection, socket, calls } = online();
  const started = calls.start('chat-1', 'video');
  assert.deepEqual(socket.sent.at(-1)?.type, 'call.start');
  assert.deepEqual(socket.sent.at(-1)?.data, { chat_id: 'chat-1', kind: 'video' });
  socket.receive({ type: 'ack', id: socket.sent.at(-1)!.id, data: { call } });
  assert.deepEqual(await started, call);

  const cases: [() => Promise<unknown>, string, unknown][] = [
    [() => calls.decline('call-1'), 'call.decline', { call_id: 'call-1' }],
    [() => calls.hangup('call-1'), 'call.hangup', { call_id: 'call-1' }],
    [() => calls.setScreenSharing('call-1', true), 'call.screen_share.start', { call_id: 'call-1' }],
    [() => calls.setScreenSharing('call-1', false), 'call.screen_share.stop', { call_id: 'call-1' }],
    [() => calls.signal('call-1', 'bob', 'offer', { type: 'offer', sdp: 'v=0' }), 'call.signal',
      { call_id: 'call-1', to_user_id: 'bob', kind: 'offer', payload: { type: 'offer', sdp: 'v=0' } }],
  ];
  for (const [send, type, data] of cases) {
    const done = send();
    const frame = socket.sent.at(-1)!;
    assert.equal(frame.type, type);
    assert.deepEqual(frame.data, data);
    socket.receive({ type: 'ack', id: frame.id, data: {} });
    await done;
  }
  connection.stop();
});

test('a refusal rejects with the contract code and reason', async () => {
  const { connection, socket, calls } = online();
  const accepted = calls.accept('call-1');
  socket.receive({ type: 'error', id: socket.sent.at(-1)!.id, error: { code: 'conflict', message: 'answered', details: { reason: 'not_ringing' } } });
  await assert.rejects(accepted, (error: unknown) => error instanceof ConfabError && error.code === 'conflict' && error.details.reason === 'not_ringing');
  connection.stop();
});

test('onEvent passes the call.* frames only', () => {
  const { connection, socket, calls } = online();
  const seen: CallEvent[] = [];
  const unsubscribe = calls.onEvent((event) => seen.push(event));
  socket.receive({ type: 'typing.update', data: { chat_id: 'chat-1', user_id: 'bob', is_typing: true } });
  socket.receive({ type: 'call.ring', data: { call } });
  socket.receive({ type: 'call.signal', data: { call_id: 'call-1', from_user_id: 'bob', kind: 'candidate', payload: { candidate: 'c' } } });
  unsubscribe();
  socket.receive({ type: 'call.ended', data: { call } });
  assert.deepEqual(seen.map((event) => event.type), ['call.ring', 'call.signal']);
  assert.equal(isCallEvent({ type: 'message.new' } as ServerEvent), false);
  connection.stop();
});

test('the RTC configuration keeps the credentials and restricts ICE to relays when asked', () => {
  const list = { ice_servers: [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: '1700000000:ann', credential: 'c2VjcmV0' }], ttl_seconds: 3600, expires_at: null };
  assert.deepEqual(rtcConfiguration(list, { relayOnly: true }), {
    iceServers: [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: '1700000000:ann', credential: 'c2VjcmV0' }],
    iceTransportPolicy: 'relay',
  });
  assert.deepEqual(rtcConfiguration({ ice_servers: [{ urls: ['stun:stun.example'] }], ttl_seconds: 3600, expires_at: null }), {
    iceServers: [{ urls: ['stun:stun.example'] }],
    iceTransportPolicy: 'all',
  });
  assert.deepEqual(rtcConfiguration({ ice_servers: [], ttl_seconds: 3600, expires_at: null }).iceServers, []);
});

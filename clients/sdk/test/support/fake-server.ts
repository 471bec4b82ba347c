// A scripted stand-in for Confab in unit tests: every WebSocket the client opens (the test opens,
// answers and closes it) and every REST call it makes (answered by the test's routes).
import { ConfabClient, type ConfabClientOptions, type WebSocketLike } from '../../src/index.js';

export interface SentFrame {
  type: string;
  id: string;
  data: Record<string, unknown>;
}

export class ScriptedSocket implements WebSocketLike {
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;
  readonly sent: SentFrame[] = [];
  private readonly handedOut = new Set<SentFrame>();
  private readonly waiters = new Set<() => void>();

  send(data: string) {
    this.sent.push(JSON.parse(data) as SentFrame);
    for (const waiter of this.waiters) waiter();
  }
  close() {}

  open() { this.onopen?.({}); }
  /** The server closes the connection (or the attempt fails before opening: 1006). */
  closeWith(code: number) { this.onclose?.({ code, reason: '' }); }
  push(type: string, data: unknown) { this.onmessage?.({ data: JSON.stringify({ type, data }) }); }
  ack(frame: SentFrame, data: unknown = {}) { this.onmessage?.({ data: JSON.stringify({ type: 'ack', id: frame.id, data }) }); }
  refuse(frame: SentFrame, error: { code: string; message: string; details?: Record<string, unknown> }) {
    this.onmessage?.({ data: JSON.stringify({ type: 'error', id: frame.id, error }) });
  }

  /** Resolves with the next frame of `type` not yet handed out. */
  request(type: string): Promise<SentFrame> {
    return new Promise((resolve) => {
      const check = () => {
        const frame = this.sent.find((f) => f.type === type && !this.handedOut.has(f));
        if (!frame) return;
        this.handedOut.add(frame);
        this.waiters.delete(check);
        resolve(frame);
      };
      this.waiters.add(check);
      check();
    });
  }

  sentOf(type: string): SentFrame[] {
    return this.sent.filter((f) => f.type === type);
  }
}

export interface RestCall {
  method: string;
  /** Below /api/v1, with the query. */
  path: string;
  headers: Headers;
  body: BodyInit | null | undefined;
  json: unknown;
}

export type Routes = (call: RestCall) => Response | Promise<Response>;

export const json = (status: number, body?: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
export const refusal = (status: number, code: string, details: Record<string, unknown> = {}) =>
  json(status, { error: { code, message: code, details } });

/** Waits until every pending promise callback has run (the fakes answer without timers). */
export const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A ConfabClient (user `me`) against scripted sockets and REST routes; nothing not routed is found. */
export function fakeServer(routes: Routes = () => refusal(404, 'not_found'), options: Partial<ConfabClientOptions> = {}) {
  const sockets: ScriptedSocket[] = [];
  const calls: RestCall[] = [];
  const socketWaiters = new Set<() => void>();
  const fetch = (async (url: string, init: RequestInit) => {
    const { pathname, search } = new URL(url);
    const body = init.body;
    const call: RestCall = {
      method: init.method ?? 'GET', path: pathname.replace('/api/v1', '') + search, headers: new Headers(init.headers), body,
      json: typeof body === 'string' ? JSON.parse(body) : undefined,
    };
    calls.push(call);
    return routes(call);
  }) as unknown as typeof globalThis.fetch;
  const client = new ConfabClient({
    baseUrl: 'http://confab.test', token: 't', userId: 'me', fetch, maxRetries: 0,
    reconnectBackoff: { baseMs: 1, capMs: 1 }, backoff: { baseMs: 1, capMs: 1 },
    webSocketFactory: () => {
      const socket = new ScriptedSocket();
      sockets.push(socket);
      for (const waiter of socketWaiters) waiter();
      return socket;
    },
    ...options,
  });
  /** Resolves with the `index`th socket the client opened (0: the first), once it exists. */
  const socket = (index: number) => new Promise<ScriptedSocket>((resolve) => {
    const check = () => {
      if (!sockets[index]) return;
      socketWaiters.delete(check);
      resolve(sockets[index]);
    };
    socketWaiters.add(check);
    check();
  });
  /** Starts the client and opens its first socket. */
  const online = async () => {
    await client.start();
    const first = await socket(0);
    first.open();
    return first;
  };
  return { client, sockets, calls, socket, online };
}

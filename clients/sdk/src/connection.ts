import { Backoff, defaultBackoff, fullJitterDelay } from './backoff.js';
import { FrameTooLargeError, NetworkError, TimeoutError, errorFromBody } from './errors.js';
import type { AckData, ClientEventData, ClientEventType, ServerEvent } from './types.js';

export type ConnectionState = 'connecting' | 'online' | 'offline';

/** The part of a WebSocket the connection uses: the browser's, or the `ws` package's in Node. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** Opens a WebSocket to `url` authenticated with `token` (browsers: as `?access_token=`). */
export type WebSocketFactory = (url: string, token: string) => WebSocketLike;

export const browserWebSocketFactory: WebSocketFactory = (url, token) => {
  const Socket = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!Socket) throw new Error('no global WebSocket: pass a webSocketFactory (in Node, one made with the ws package)');
  return new Socket(`${url}?access_token=${encodeURIComponent(token)}`);
};

export interface ConnectionOptions {
  url: string;
  token: string;
  webSocketFactory?: WebSocketFactory;
  backoff?: Backoff;
  random?: () => number;
  /** A `ping` is sent after this long without a frame from the server. */
  heartbeatMs?: number;
  /** A request (the heartbeat's ping included) not answered within this drops the connection. */
  requestTimeoutMs?: number;
  /**
   * An attempt not open within this is given up and the next one scheduled: an upgrade that is
   * never answered (a proxy that took the TCP connection and forwards nothing) would otherwise
   * leave the connection `connecting` for good, and neither a browser's WebSocket nor ws ends it.
   */
  connectTimeoutMs?: number;
  /** The server's WebSocket frame limit (`limits.frame_bytes`): a larger request is refused before it is sent. */
  maxFrameBytes?: number;
  /**
   * Asked after a connection attempt failed before opening: a browser sees an upgrade refused
   * with HTTP 401 only as close 1006. Resolves false when the server refuses the token; any
   * other outcome (true, or a rejection: the server is unreachable) lets reconnecting go on.
   */
  checkToken?: () => Promise<boolean>;
}

/** The contract's default `limits.frame_bytes`. */
export const defaultMaxFrameBytes = 64 * 1024;

/** Close codes after which reconnecting cannot help: the token was revoked (4001). */
const finalCloseCodes = new Set([4001]);

/** The server closes with 1009 for a frame over its limit. */
const frameTooLargeClose = 1009;

interface Pending {
  resolve: (data: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  /** The request frame's size in bytes. */
  bytes: number;
}

export interface FinalClose {
  code: number;
  reason: string;
}

type Listener<T> = (value: T) => void;

/**
 * One WebSocket that recovers by itself: reconnects with capped exponential back-off and full
 * jitter, pings a quiet server, answers requests by id, and tells its listeners when it is
 * (again) online so that they resynchronise.
 */
export class Connection {
  private socket: WebSocketLike | undefined;
  private currentState: ConnectionState = 'offline';
  private running = false;
  private attempt = 0;
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly stateListeners = new Set<Listener<ConnectionState>>();
  private readonly eventListeners = new Set<Listener<ServerEvent>>();
  private readonly openListeners = new Set<Listener<{ reconnected: boolean }>>();
  private readonly finalListeners = new Set<Listener<FinalClose>>();
  private opened = false;
  private checkingToken = false;
  /** The frame limit, lowered when the server closes with 1009 for a frame within it (its limit is then lower). */
  private maxFrameBytes: number;
  private readonly options: Required<Omit<ConnectionOptions, 'token' | 'maxFrameBytes' | 'checkToken'>> & Pick<ConnectionOptions, 'checkToken'>;
  token: string;

  constructor(options: ConnectionOptions) {
    this.token = options.token;
    this.options = {
      url: options.url,
      webSocketFactory: options.webSocketFactory ?? browserWebSocketFactory,
      backoff: options.backoff ?? defaultBackoff,
      random: options.random ?? Math.random,
      heartbeatMs: options.heartbeatMs ?? 25_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      checkToken: options.checkToken,
    };
    this.maxFrameBytes = options.maxFrameBytes ?? defaultMaxFrameBytes;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.dial();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    this.drop(1000, 'client stopped');
  }

  /** Skips the back-off wait (e.g. when the browser reports it is online again). */
  reconnectNow(): void {
    if (!this.running || this.socket) return;
    clearTimeout(this.reconnectTimer);
    this.dial();
  }

  /** Drops the socket as if the network had; the connection then recovers by itself. */
  interrupt(): void {
    this.drop(4000, 'interrupted by the client');
  }

  onState(listener: Listener<ConnectionState>): () => void {
    return subscribe(this.stateListeners, listener);
  }
  onEvent(listener: Listener<ServerEvent>): () => void {
    return subscribe(this.eventListeners, listener);
  }
  /** Called on every open; `reconnected` after the first. */
  onOpen(listener: Listener<{ reconnected: boolean }>): () => void {
    return subscribe(this.openListeners, listener);
  }
  /** The server refused the token for good (revoked or expired: close 4001, or an upgrade refused with 401): no more reconnects. */
  onFinalClose(listener: Listener<FinalClose>): () => void {
    return subscribe(this.finalListeners, listener);
  }

  /**
   * Sends a client event with an id and resolves with its ack's data; rejects with ConfabError
   * (FrameTooLargeError for a frame over the limit, never sent) or NetworkError.
   */
  request<T extends ClientEventType>(type: T, data: ClientEventData<T>): Promise<AckData<T>> {
    const socket = this.socket;
    if (!socket || this.currentState !== 'online') return Promise.reject(new NetworkError(`offline: ${type} not sent`));
    const id = `r${this.nextId++}`;
    const frame = JSON.stringify({ type, id, data });
    const bytes = utf8Length(frame);
    if (bytes > this.maxFrameBytes) {
      return Promise.reject(new FrameTooLargeError(`${type} is ${bytes} bytes, over the ${this.maxFrameBytes} byte frame limit`));
    }
    return new Promise<AckData<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(`${type} not answered within ${this.options.requestTimeoutMs} ms`));
        // A connection that cannot answer is treated as lost: the reconnect and resync recover.
        this.drop(4000, 'request timed out');
      }, this.options.requestTimeoutMs);
      this.pending.set(id, { resolve: resolve as (data: unknown) => void, reject, timer, bytes });
      socket.send(frame);
    });
  }

  private dial(): void {
    this.setState('connecting');
    let socket: WebSocketLike;
    try {
      socket = this.options.webSocketFactory(this.options.url, this.token);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.connectTimer = setTimeout(() => this.drop(4000, 'connection attempt timed out'), this.options.connectTimeoutMs);
    socket.onopen = () => {
      if (this.socket !== socket) return;
      clearTimeout(this.connectTimer);
      this.attempt = 0;
      const reconnected = this.opened;
      this.opened = true;
      this.setState('online');
      this.armHeartbeat();
      for (const listener of this.openListeners) listener({ reconnected });
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.armHeartbeat();
      this.receive(String(event.data));
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.lost(event.code, event.reason);
    };
    socket.onerror = () => {
      // Always followed by close, which does the work.
    };
  }

  private receive(text: string): void {
    let frame: { type?: string; id?: string; data?: unknown; error?: unknown };
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    const pending = frame.id === undefined ? undefined : this.pending.get(frame.id);
    if (pending && (frame.type === 'ack' || frame.type === 'error')) {
      this.pending.delete(frame.id!);
      clearTimeout(pending.timer);
      if (frame.type === 'ack') pending.resolve(frame.data ?? {});
      else pending.reject(errorFromBody({ error: frame.error }, undefined));
      return;
    }
    for (const listener of this.eventListeners) listener(frame as ServerEvent);
  }

  private armHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => {
      this.request('ping', {}).catch(() => {
        // A ping that fails has already dropped the connection (timeout) or found it closed.
      });
    }, this.options.heartbeatMs);
  }

  private drop(code: number, reason: string): void {
    const socket = this.socket;
    if (!socket) return;
    try {
      socket.close(code === 1000 ? 1000 : 4000, reason);
    } catch {
      // Closing a socket that never opened may throw; it is gone either way.
    }
    this.lost(code, reason);
  }

  private lost(code: number, reason: string): void {
    const neverOpened = this.currentState === 'connecting';
    this.socket = undefined;
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.connectTimer);
    if (code === frameTooLargeClose) this.refuseOversizedFrame();
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new NetworkError(`connection lost (${code}${reason ? `: ${reason}` : ''})`));
      this.pending.delete(id);
    }
    this.setState('offline');
    if (finalCloseCodes.has(code)) return this.end({ code, reason });
    if (!this.running) return;
    this.scheduleReconnect();
    if (neverOpened) this.checkToken(code);
  }

  /**
   * The server answers every request it read before its close frame, so the oldest request
   * still unanswered at a 1009 is the frame it closed for: it fails for good (sending it again
   * would close the connection again), and frames as large are refused from now on. The
   * requests sent after it fail as lost, to be sent again.
   */
  private refuseOversizedFrame(): void {
    const [oldest] = this.pending;
    if (!oldest) return;
    const [id, pending] = oldest;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    this.maxFrameBytes = Math.min(this.maxFrameBytes, pending.bytes - 1);
    pending.reject(new FrameTooLargeError(`the server closed the connection (1009) for a ${pending.bytes} byte frame`));
  }

  /** Whether the attempt failed because the token is no longer valid: then there is no point in reconnecting. */
  private checkToken(code: number): void {
    const { checkToken } = this.options;
    if (!checkToken || this.checkingToken) return;
    this.checkingToken = true;
    checkToken()
      .then((valid) => {
        if (valid || !this.running || this.currentState === 'online') return;
        this.running = false;
        this.drop(1000, 'token refused'); // an attempt under way, which would be refused too
        this.end({ code, reason: 'the server refused the token (HTTP 401)' });
      }, () => undefined)
      .finally(() => { this.checkingToken = false; });
  }

  private end(close: FinalClose): void {
    this.running = false;
    clearTimeout(this.reconnectTimer);
    for (const listener of this.finalListeners) listener(close);
  }

  private scheduleReconnect(): void {
    this.setState('offline');
    const delay = fullJitterDelay(this.attempt++, this.options.backoff, this.options.random);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.dial(), delay);
  }

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    for (const listener of this.stateListeners) listener(state);
  }
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

function subscribe<T>(set: Set<Listener<T>>, listener: Listener<T>): () => void {
  set.add(listener);
  return () => set.delete(listener);
}


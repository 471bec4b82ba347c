import { Backoff, defaultBackoff, fullJitterDelay, parseRetryAfter, sleep } from './backoff.js';
import { ConfabError, NetworkError, TimeoutError, errorFromBody } from './errors.js';
import type {
  CallModel, ChatMemberModel, ChatModel, ChatPage, CreateChatRequest, EditMessageRequest, IceServerList, LoginRequest,
  MediaKind, MediaMetadata, MediaModel, MemberPage, MembersAdded, MessageModel, MessagePage, RegisterRequest,
  SendMessageRequest, SignedIn, SyncPage, UpdateChatRequest, UpdateMemberRequest, UserModel, UserPage,
} from './types.js';

export interface RestOptions {
  /** The server's origin, e.g. `http://127.0.0.1:8080` (the API lives under /api/v1). */
  baseUrl: string;
  token?: string;
  fetch?: typeof fetch;
  /** Per attempt. */
  timeoutMs?: number;
  /** Further attempts after the first, for calls that may be repeated. */
  maxRetries?: number;
  /** A Retry-After longer than this is not waited out: the error is thrown. */
  maxRetryWaitMs?: number;
  backoff?: Backoff;
  random?: () => number;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** A raw body (uploads); sent as is with `headers`. */
  rawBody?: BodyInit | (() => BodyInit);
  headers?: Record<string, string>;
  /** May be sent again after a failure. GET, PUT and DELETE always may; a POST only when it says so (a client_id). */
  idempotent?: boolean;
  /** Overrides the client's maxRetries (0: one attempt). */
  retries?: number;
  signal?: AbortSignal;
}

const idempotentMethods = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);

/** Whether a failed attempt is tried again, and after how long; undefined: give up. A pure function of the failure. */
export function retryDelay(
  failure: unknown,
  attempt: number,
  repeatable: boolean,
  options: { maxRetries: number; maxRetryWaitMs: number; backoff: Backoff; random: () => number },
): number | undefined {
  if (!repeatable || attempt >= options.maxRetries) return undefined;
  if (failure instanceof ConfabError) {
    if (failure.code !== 'rate_limited' && failure.code !== 'unavailable') return undefined;
    const wait = failure.retryAfterMs ?? fullJitterDelay(attempt, options.backoff, options.random);
    return wait <= options.maxRetryWaitMs ? wait : undefined;
  }
  if (failure instanceof NetworkError) return fullJitterDelay(attempt, options.backoff, options.random);
  return undefined;
}

/** The REST API of docs/openapi.yaml, typed, with the contract's errors, timeouts and safe retries. */
export class RestClient {
  token: string | undefined;
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retry: { maxRetries: number; maxRetryWaitMs: number; backoff: Backoff; random: () => number };
  private readonly unauthorizedListeners = new Set<() => void>();

  constructor(options: RestOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.retry = {
      maxRetries: options.maxRetries ?? 4,
      maxRetryWaitMs: options.maxRetryWaitMs ?? 60_000,
      backoff: options.backoff ?? defaultBackoff,
      random: options.random ?? Math.random,
    };
  }

  /** The WebSocket URL of this server. */
  get webSocketUrl(): string {
    return this.baseUrl.replace(/^http/, 'ws') + '/api/v1/ws';
  }

  /** Called when a request that carried the token is answered 401: the token expired or was revoked. */
  onUnauthorized(listener: () => void): () => void {
    this.unauthorizedListeners.add(listener);
    return () => this.unauthorizedListeners.delete(listener);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const repeatable = idempotentMethods.has(method) || options.idempotent === true;
    const retry = options.retries === undefined ? this.retry : { ...this.retry, maxRetries: options.retries };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt<T>(method, path, options);
      } catch (failure) {
        const wait = retryDelay(failure, attempt, repeatable, retry);
        if (wait === undefined || options.signal?.aborted) throw failure;
        await sleep(wait, options.signal);
      }
    }
  }

  private async attempt<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
    const headers: Record<string, string> = { ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: BodyInit | undefined = typeof options.rawBody === 'function' ? options.rawBody() : options.rawBody;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    try {
      let response: Response;
      try {
        response = await this.fetchImpl(this.url(path, options.query), {
          method, headers, body, signal,
          ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
        } as RequestInit);
      } catch (cause) {
        if (options.signal?.aborted) throw cause;
        if (timeout.signal.aborted) throw new TimeoutError(`${method} ${path} timed out after ${this.timeoutMs} ms`);
        throw new NetworkError(`${method} ${path} failed: ${(cause as Error).message}`, { cause });
      }
      const text = await response.text();
      const parsed: unknown = text ? safeJson(text) : undefined;
      if (!response.ok) {
        if (response.status === 401 && headers.authorization) this.unauthorizedListeners.forEach((listener) => listener());
        throw errorFromBody(parsed, response.status, parseRetryAfter(response.headers.get('retry-after')));
      }
      return parsed as T;
    } finally {
      clearTimeout(timer);
    }
  }

  private url(path: string, query?: Query): string {
    const url = new URL(this.baseUrl + '/api/v1' + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  // ----- accounts
  register(request: RegisterRequest) { return this.request<SignedIn>('POST', '/auth/register', { body: request }); }
  login(request: LoginRequest) { return this.request<SignedIn>('POST', '/auth/login', { body: request }); }
  logout(options: Pick<RequestOptions, 'retries'> = {}) { return this.request<void>('POST', '/auth/logout', { idempotent: true, ...options }); }
  me(options: Pick<RequestOptions, 'retries'> = {}) { return this.request<UserModel>('GET', '/users/me', options); }
  user(id: string) { return this.request<UserModel>('GET', `/users/${id}`); }
  searchUsers(query: string, page: { limit?: number; cursor?: string | null } = {}) {
    return this.request<UserPage>('GET', '/users', { query: { query, ...page } });
  }

  // ----- chats and members
  listChats(page: { limit?: number; cursor?: string | null } = {}) {
    return this.request<ChatPage>('GET', '/chats', { query: page });
  }
  /** Not repeated after a failure: a second group would be created (a direct chat is found again). */
  createChat(request: CreateChatRequest) {
    return this.request<ChatModel>('POST', '/chats', { body: request, idempotent: request.type === 'direct' });
  }
  chat(id: string, options: Pick<RequestOptions, 'retries'> = {}) { return this.request<ChatModel>('GET', `/chats/${id}`, options); }
  updateChat(id: string, request: UpdateChatRequest) { return this.request<ChatModel>('PUT', `/chats/${id}`, { body: request }); }
  deleteChat(id: string) { return this.request<void>('DELETE', `/chats/${id}`); }
  listMembers(chatId: string, page: { limit?: number; cursor?: string | null } = {}) {
    return this.request<MemberPage>('GET', `/chats/${chatId}/members`, { query: page });
  }
  /** Adding someone who is already a member changes nothing, so this may be repeated. */
  addMembers(chatId: string, userIds: string[]) {
    return this.request<MembersAdded>('POST', `/chats/${chatId}/members`, { body: { user_ids: userIds }, idempotent: true });
  }
  updateMember(chatId: string, userId: string, request: UpdateMemberRequest) {
    return this.request<ChatMemberModel>('PATCH', `/chats/${chatId}/members/${userId}`, { body: request });
  }
  removeMember(chatId: string, userId: string) { return this.request<void>('DELETE', `/chats/${chatId}/members/${userId}`); }

  // ----- messages
  /** The newest page (no cursor), older than `before_seq`, or newer than `after_seq`. */
  listMessages(chatId: string, page: { before_seq?: number; after_seq?: number; limit?: number } = {}) {
    return this.request<MessagePage>('GET', `/chats/${chatId}/messages`, { query: page });
  }
  sync(chatId: string, sinceVersion: number, limit?: number) {
    return this.request<SyncPage>('GET', `/chats/${chatId}/messages`, { query: { since_version: sinceVersion, limit } });
  }
  message(id: string, options: Pick<RequestOptions, 'retries'> = {}) { return this.request<MessageModel>('GET', `/messages/${id}`, options); }
  /** Repeated after a failure only when it carries a client_id (the server then stores it once). */
  sendMessage(chatId: string, request: SendMessageRequest) {
    return this.request<MessageModel>('POST', `/chats/${chatId}/messages`, {
      body: request, idempotent: typeof request.client_id === 'string',
    });
  }
  editMessage(id: string, request: EditMessageRequest, options: Pick<RequestOptions, 'retries'> = {}) {
    return this.request<MessageModel>('PUT', `/messages/${id}`, { body: request, ...options });
  }
  deleteMessage(id: string, options: Pick<RequestOptions, 'retries'> = {}) { return this.request<void>('DELETE', `/messages/${id}`, options); }
  addReaction(id: string, emoji: string, options: Pick<RequestOptions, 'retries'> = {}) {
    return this.request<void>('PUT', `/messages/${id}/reactions/${encodeURIComponent(emoji)}`, options);
  }
  removeReaction(id: string, emoji: string, options: Pick<RequestOptions, 'retries'> = {}) {
    return this.request<void>('DELETE', `/messages/${id}/reactions/${encodeURIComponent(emoji)}`, options);
  }
  /** Never moves back, so repeating it is harmless. */
  markRead(chatId: string, seq: number) {
    return this.request<void>('POST', `/chats/${chatId}/read`, { body: { seq }, idempotent: true });
  }

  // ----- calls
  /** The ICE servers for RTCPeerConnection, with TURN credentials valid until `expires_at`. */
  iceServers() { return this.request<IceServerList>('GET', '/calls/ice-servers'); }
  /**
   * The call running in a chat, or null when none runs (`404` `no_call`): what a page opened,
   * or a connection reopened, after the call started asks to offer "Join".
   */
  async runningCall(chatId: string): Promise<CallModel | null> {
    try {
      return await this.request<CallModel>('GET', `/chats/${chatId}/call`);
    } catch (error) {
      if (error instanceof ConfabError && error.code === 'not_found' && error.details['reason'] === 'no_call') return null;
      throw error;
    }
  }

  // ----- media
  /**
   * Uploads bytes for a later message. The server returns the stored media for the same bytes
   * sent again to the same chat, so a failed upload may be repeated. With `liveVideo` (an
   * image only) the still and its short video go as one live photo: a multipart/form-data
   * body with the parts `file` and `live_video` (docs/api.md, Live photos).
   */
  async uploadMedia(chatId: string, kind: MediaKind, bytes: Uint8Array, options: UploadOptions) {
    const headers: Record<string, string> = {};
    const { onProgress, liveVideo } = options;
    const fileName = options.fileName || undefined;
    // The server stores X-File-Name's bytes as UTF-8, but fetch sends a header's characters
    // as Latin-1 (and refuses others): a name outside printable ASCII goes as the multipart
    // `file` part's filename instead, which fetch writes in UTF-8.
    const nameInHeader = fileName !== undefined && /^[\x20-\x7e]*$/.test(fileName);
    if (nameInHeader) headers['x-file-name'] = fileName;
    if (options.metadata) headers['x-media-metadata'] = JSON.stringify(options.metadata);
    const total = bytes.byteLength + (liveVideo?.bytes.byteLength ?? 0);
    const multipart = liveVideo !== undefined || (fileName !== undefined && !nameInHeader);
    // Progress is counted as a streamed body hands out its chunks, which Node's fetch allows;
    // browsers refuse streamed bodies over HTTP/1.1, so there progress jumps to the end, as it
    // does for a form (fetch makes its boundary and length).
    const stream = onProgress !== undefined && streamedUploads && !multipart;
    let body: BodyInit | (() => BodyInit);
    if (multipart) {
      body = () => uploadForm(bytes, options.mimeType, fileName, liveVideo);
    } else {
      headers['content-type'] = options.mimeType;
      body = stream ? () => progressStream(bytes, onProgress) : (bytes as BodyInit);
      if (stream) headers['content-length'] = String(bytes.byteLength);
    }
    const media = await this.request<MediaModel>('POST', '/messages/upload', {
      query: { chat_id: chatId, kind }, rawBody: body, headers, idempotent: true, signal: options.signal, retries: options.retries,
    });
    if (onProgress && !stream) onProgress(total, total);
    return media;
  }
}

/** A live photo's motion part: a short video (at most 5 s; mp4, QuickTime or WebM). */
export interface LiveVideoPart {
  bytes: Uint8Array;
  mimeType: string;
}

export interface UploadOptions {
  mimeType: string;
  fileName?: string;
  metadata?: MediaMetadata;
  /** Makes the image a live photo (kind `image` only). */
  liveVideo?: LiveVideoPart;
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
  retries?: number;
}

/** The multipart body: the `file` part (named, when there is a name), and a live photo's `live_video`. */
function uploadForm(bytes: Uint8Array, mimeType: string, fileName: string | undefined, video: LiveVideoPart | undefined): FormData {
  const form = new FormData();
  form.append('file', new Blob([bytes as BlobPart], { type: mimeType }), fileName ?? 'still');
  if (video) form.append('live_video', new Blob([video.bytes as BlobPart], { type: video.mimeType }), 'live_video');
  return form;
}

const progressChunk = 64 * 1024;
const streamedUploads = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/** The bytes as a stream that reports how much of them the transport has taken. */
function progressStream(bytes: Uint8Array, onProgress: (sent: number, total: number) => void): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close();
        return;
      }
      const chunk = bytes.subarray(offset, offset + progressChunk);
      offset += chunk.byteLength;
      controller.enqueue(chunk);
      onProgress(offset, bytes.byteLength);
    },
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

import { Backoff, defaultBackoff, fullJitterDelay, sleep } from '../backoff.js';
import type { ConfabClient } from '../client.js';
import { ConfabError, isTransient, NetworkError, TimeoutError } from '../errors.js';
import type { LiveVideoPart } from '../rest.js';
import type { ErrorCode, MediaKind, MediaMetadata, MediaModel, SendMessageRequest } from '../types.js';
import { Bloc } from './bloc.js';

/**
 * `offline`: the connection is down; nothing is tried until it is back, however long that
 * takes. `waiting`: a transient failure while connected (a network error, `rate_limited`,
 * `unavailable`), tried again after a back-off.
 */
export type UploadStatus = 'queued' | 'uploading' | 'offline' | 'waiting' | 'done' | 'failed' | 'cancelled';

/** Why an upload failed (or last failed): the contract's code, or `network` for no answer. */
export type UploadErrorCode = ErrorCode | 'network';

export interface Upload {
  id: string;
  chatId: string;
  kind: MediaKind;
  mimeType: string;
  fileName?: string;
  metadata?: MediaMetadata;
  /** A live photo's motion part (kind `image`): its type and size; its bytes are kept until the upload is done. */
  liveVideo?: { mimeType: string; size: number };
  /** The bytes to send, a live photo's video included. */
  size: number;
  status: UploadStatus;
  /** 0..1 of the bytes handed to the network. */
  progress: number;
  attempts: number;
  media?: MediaModel;
  /** Why it failed (or why it is being tried again), in words for the user (`uploadErrorText`). */
  error?: string;
  errorCode?: UploadErrorCode;
  /** Sent as a message with the media once uploaded (e.g. a caption); none: upload only. */
  message?: Omit<SendMessageRequest, 'type' | 'media_id'>;
}

export interface UploadState {
  uploads: readonly Upload[];
}

export type UploadEvent =
  | { type: 'add'; upload: Omit<Upload, 'id' | 'status' | 'progress' | 'attempts' | 'size' | 'liveVideo'> & { bytes: Uint8Array; liveVideo?: LiveVideoPart } }
  | { type: 'cancel'; id: string }
  | { type: 'retry'; id: string }
  | { type: 'remove'; id: string };

export interface UploadBlocOptions {
  /**
   * Transient failures in a row while connected before the upload is marked failed (retry then
   * starts again). Failures while the connection is down do not count: the upload waits for it.
   */
  maxAttempts?: number;
  backoff?: Backoff;
  random?: () => number;
}

/**
 * A queue of uploads, one at a time, with progress, cancel and retry. Like the outbox, it waits
 * for the connection: while it is down nothing is tried and the upload shows `offline`, and a
 * failure that finds it down waits for it again rather than counting as an attempt. Transient
 * failures while connected are tried again with back-off, `maxAttempts` in a row. The bytes are
 * kept in memory only: a reload loses uploads not done (unlike the outbox's sends).
 */
export class UploadBloc extends Bloc<UploadEvent, UploadState> {
  private readonly bytes = new Map<string, { still: Uint8Array; liveVideo?: LiveVideoPart }>();
  private readonly controllers = new Map<string, AbortController>();
  private running = false;
  private readonly maxAttempts: number;
  private readonly backoff: Backoff;
  private readonly random: () => number;

  constructor(private readonly client: ConfabClient, options: UploadBlocOptions = {}) {
    super({ uploads: [] });
    this.maxAttempts = options.maxAttempts ?? 5;
    this.backoff = options.backoff ?? defaultBackoff;
    this.random = options.random ?? Math.random;
    this.disposers.push(() => this.controllers.forEach((c) => c.abort()));
  }

  protected async on(event: UploadEvent): Promise<void> {
    switch (event.type) {
      case 'add': {
        const { bytes, liveVideo, ...fields } = event.upload;
        const id = globalThis.crypto.randomUUID();
        this.bytes.set(id, { still: bytes, liveVideo });
        const live = liveVideo && { liveVideo: { mimeType: liveVideo.mimeType, size: liveVideo.bytes.byteLength } };
        const size = bytes.byteLength + (liveVideo?.bytes.byteLength ?? 0);
        this.emit({ uploads: [...this.state.uploads, { ...fields, ...live, id, size, status: 'queued', progress: 0, attempts: 0 }] });
        break;
      }
      case 'cancel':
        this.controllers.get(event.id)?.abort();
        this.patch(event.id, (u) => (u.status === 'done' ? {} : { status: 'cancelled' }));
        break;
      case 'retry':
        this.patch(event.id, (u) => (u.status === 'failed' || u.status === 'cancelled' ? { status: 'queued', attempts: 0, error: undefined, progress: 0 } : {}));
        break;
      case 'remove':
        this.controllers.get(event.id)?.abort();
        this.bytes.delete(event.id);
        this.emit({ uploads: this.state.uploads.filter((u) => u.id !== event.id) });
        return;
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.nextQueued(); next; next = this.nextQueued()) await this.upload(next);
    } finally {
      this.running = false;
    }
  }

  private nextQueued(): Upload | undefined {
    return this.state.uploads.find((u) => u.status === 'queued');
  }

  private async upload(upload: Upload): Promise<void> {
    const controller = new AbortController();
    const { signal } = controller;
    this.controllers.set(upload.id, controller);
    try {
      // Transient failures in a row while connected.
      let failures = 0;
      for (let attempt = upload.attempts; ; attempt++) {
        if (this.client.state !== 'online') {
          this.patch(upload.id, () => ({ status: 'offline', progress: 0 }));
          await this.connected(signal).catch(() => undefined);
          if (signal.aborted) return;
        }
        this.patch(upload.id, () => ({ status: 'uploading', attempts: attempt + 1, progress: 0 }));
        try {
          const { still, liveVideo } = this.bytes.get(upload.id)!;
          const media = await this.client.rest.uploadMedia(upload.chatId, upload.kind, still, {
            mimeType: upload.mimeType, fileName: upload.fileName, metadata: upload.metadata, liveVideo, signal, retries: 0,
            onProgress: (sent, total) => this.patch(upload.id, (u) => (u.status === 'uploading' ? { progress: sent / total } : {})),
          });
          this.patch(upload.id, () => ({ status: 'done', progress: 1, media, error: undefined, errorCode: undefined }));
          if (upload.message) await this.client.send(upload.chatId, { ...upload.message, type: upload.kind, media_id: media.id });
          this.bytes.delete(upload.id);
          return;
        } catch (error) {
          if (signal.aborted) return;
          const reason = { error: uploadErrorText(error), errorCode: uploadErrorCode(error) };
          if (!isTransient(error) || (this.client.state === 'online' && ++failures >= this.maxAttempts)) {
            this.patch(upload.id, () => ({ status: 'failed', ...reason }));
            return;
          }
          // The connection is down: the next round waits for it, whatever the count.
          if (this.client.state !== 'online') continue;
          this.patch(upload.id, () => ({ status: 'waiting', ...reason }));
          const hinted = error instanceof ConfabError ? error.retryAfterMs : undefined;
          await sleep(hinted ?? fullJitterDelay(failures - 1, this.backoff, this.random), signal).catch(() => undefined);
          if (signal.aborted) return;
        }
      }
    } finally {
      this.controllers.delete(upload.id);
    }
  }

  /** Resolves once the client's connection is up; rejects when the upload is cancelled. */
  private connected(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.client.state === 'online') return resolve();
      const onAbort = () => {
        stop();
        reject(signal.reason);
      };
      const stop = this.client.connection.onState((state) => {
        if (state !== 'online') return;
        stop();
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private patch(id: string, change: (upload: Upload) => Partial<Upload>): void {
    this.emit({ uploads: this.state.uploads.map((u) => (u.id === id ? { ...u, ...change(u) } : u)) });
  }
}

export function uploadErrorCode(error: unknown): UploadErrorCode {
  if (error instanceof ConfabError) return error.code;
  return error instanceof NetworkError ? 'network' : 'internal';
}

/** Why an upload failed, in words for the user (not the request and the transport's message). */
export function uploadErrorText(error: unknown): string {
  if (error instanceof TimeoutError) return 'The upload took too long. Try again on a better connection.';
  if (error instanceof NetworkError) return 'The server could not be reached. Try again when you are back online.';
  if (!(error instanceof ConfabError)) return 'The upload failed. Try again.';
  switch (error.code) {
    case 'payload_too_large': return 'The file is too large to send.';
    case 'unsupported_media_type': return 'This type of file cannot be sent.';
    case 'forbidden': return 'You cannot send files in this chat.';
    case 'not_found': return 'The chat is gone, or you are no longer a member.';
    case 'bad_request': return 'The server did not accept this file.';
    case 'rate_limited': return 'Too many uploads at once. Try again in a moment.';
    case 'unavailable': return 'The server is busy. Try again in a moment.';
    default: return 'The upload failed. Try again.';
  }
}

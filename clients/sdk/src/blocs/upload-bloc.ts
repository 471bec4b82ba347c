import { Backoff, defaultBackoff, fullJitterDelay, sleep } from '../backoff.js';
import type { ConfabClient } from '../client.js';
import { isTransient } from '../errors.js';
import type { LiveVideoPart } from '../rest.js';
import type { MediaKind, MediaMetadata, MediaModel, SendMessageRequest } from '../types.js';
import { Bloc, describe } from './bloc.js';

export type UploadStatus = 'queued' | 'uploading' | 'waiting' | 'done' | 'failed' | 'cancelled';

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
  error?: string;
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
  /** Attempts after a network failure before the upload is marked failed (retry then starts again). */
  maxAttempts?: number;
  backoff?: Backoff;
  random?: () => number;
}

/** A queue of uploads, one at a time, with progress, cancel and retry with back-off after a network failure. */
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
    this.controllers.set(upload.id, controller);
    try {
      for (let attempt = upload.attempts; ; attempt++) {
        this.patch(upload.id, () => ({ status: 'uploading', attempts: attempt + 1, progress: 0 }));
        try {
          const { still, liveVideo } = this.bytes.get(upload.id)!;
          const media = await this.client.rest.uploadMedia(upload.chatId, upload.kind, still, {
            mimeType: upload.mimeType, fileName: upload.fileName, metadata: upload.metadata, liveVideo, signal: controller.signal, retries: 0,
            onProgress: (sent, total) => this.patch(upload.id, (u) => (u.status === 'uploading' ? { progress: sent / total } : {})),
          });
          this.patch(upload.id, () => ({ status: 'done', progress: 1, media }));
          if (upload.message) await this.client.send(upload.chatId, { ...upload.message, type: upload.kind, media_id: media.id });
          this.bytes.delete(upload.id);
          return;
        } catch (error) {
          if (controller.signal.aborted) return;
          if (!isTransient(error) || attempt + 1 >= this.maxAttempts) {
            this.patch(upload.id, () => ({ status: 'failed', error: describe(error) }));
            return;
          }
          this.patch(upload.id, () => ({ status: 'waiting', error: describe(error) }));
          await sleep(fullJitterDelay(attempt, this.backoff, this.random), controller.signal).catch(() => undefined);
          if (controller.signal.aborted) return;
        }
      }
    } finally {
      this.controllers.delete(upload.id);
    }
  }

  private patch(id: string, change: (upload: Upload) => Partial<Upload>): void {
    this.emit({ uploads: this.state.uploads.map((u) => (u.id === id ? { ...u, ...change(u) } : u)) });
  }
}

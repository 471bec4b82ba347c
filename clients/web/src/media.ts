// Media needs the bearer token, so it is fetched and shown through blob: URLs (allowed by the
// Content-Security-Policy); each message's bytes are fetched once per page. Thumbnails are
// kept in the SDK's cache (IndexedDB), so a reload or an offline start shows them without a
// request.
import { useEffect, useState } from 'preact/hooks';
import type { Session } from './session.js';

/** What fetching media needs from the session. */
export type MediaAccess = Pick<Session, 'token' | 'client'>;

/** The file itself, its thumbnail, or a live photo's motion part. */
export type MediaVariant = 'full' | 'thumb' | 'video';

const queries: Record<MediaVariant, string> = { full: '', thumb: '?variant=thumb', video: '?part=video' };

const urls = new Map<string, Promise<string>>();

async function fetchMedia(token: string, messageId: string, variant: MediaVariant): Promise<Blob> {
  const response = await fetch(`/api/v1/messages/${messageId}/media${queries[variant]}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`media ${response.status}`);
  return response.blob();
}

async function thumbnailBlob({ token, client }: MediaAccess, messageId: string): Promise<Blob> {
  const cached = await client.cache.thumbnail(messageId);
  if (cached) return cached;
  const blob = await fetchMedia(token, messageId, 'thumb');
  await client.cache.putThumbnail(messageId, blob);
  return blob;
}

export function mediaUrl(access: MediaAccess, messageId: string, variant: MediaVariant): Promise<string> {
  const key = `${messageId}:${variant}`;
  let url = urls.get(key);
  if (!url) {
    const blob = variant === 'thumb' ? thumbnailBlob(access, messageId) : fetchMedia(access.token, messageId, variant);
    url = blob.then((b) => URL.createObjectURL(b));
    url.catch(() => urls.delete(key));
    urls.set(key, url);
  }
  return url;
}

function forget(key: string): void {
  urls.get(key)?.then((u) => URL.revokeObjectURL(u), () => undefined);
  urls.delete(key);
}

/** Revokes every blob: URL made for this user's media (sign-out): the next user must not see them. */
export function forgetMediaUrls(): void {
  for (const key of [...urls.keys()]) forget(key);
}

/** Revokes the blob: URLs of one message's media (deleted, or no longer the user's to see): never shown again. */
export function forgetMediaOf(messageId: string): void {
  for (const variant of Object.keys(queries)) forget(`${messageId}:${variant}`);
}

/**
 * Calls `retry` once, when the client's connection next opens or the browser says it is back
 * online (whichever is first); returns the cancel.
 */
function whenBackOnline({ client }: MediaAccess, retry: () => void): () => void {
  const stop = () => { stopOpen(); removeEventListener('online', back); };
  const back = () => { stop(); retry(); };
  const stopOpen = client.connection.onOpen(back);
  addEventListener('online', back);
  return stop;
}

/** A message's media as a blob: URL; a load that failed (offline, the server away) is tried again once back online. */
export function useMediaUrl(access: MediaAccess, messageId: string | undefined, variant: MediaVariant): string | undefined {
  const [url, setUrl] = useState<string>();
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!messageId) return;
    let current = true;
    let stopWaiting: (() => void) | undefined;
    mediaUrl(access, messageId, variant).then((u) => current && setUrl(u), () => {
      if (current) stopWaiting = whenBackOnline(access, () => setAttempt((n) => n + 1));
    });
    return () => { current = false; stopWaiting?.(); };
  }, [access, messageId, variant, attempt]);
  return url;
}

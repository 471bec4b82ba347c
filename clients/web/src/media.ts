// Media needs the bearer token, so it is fetched and shown through blob: URLs (allowed by the
// Content-Security-Policy); each message's bytes are fetched once per page. Thumbnails are
// kept in the SDK's cache (IndexedDB), so a reload or an offline start shows them without a
// request.
import { useEffect, useState } from 'preact/hooks';
import type { Session } from './session.js';

/** What fetching media needs from the session. */
export type MediaAccess = Pick<Session, 'token' | 'client'>;

const urls = new Map<string, Promise<string>>();

async function fetchMedia(token: string, messageId: string, thumbnail: boolean): Promise<Blob> {
  const response = await fetch(`/api/v1/messages/${messageId}/media${thumbnail ? '?variant=thumb' : ''}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`media ${response.status}`);
  return response.blob();
}

async function thumbnailBlob({ token, client }: MediaAccess, messageId: string): Promise<Blob> {
  const cached = await client.cache.thumbnail(messageId);
  if (cached) return cached;
  const blob = await fetchMedia(token, messageId, true);
  await client.cache.putThumbnail(messageId, blob);
  return blob;
}

export function mediaUrl(access: MediaAccess, messageId: string, thumbnail: boolean): Promise<string> {
  const key = `${messageId}:${thumbnail ? 'thumb' : 'full'}`;
  let url = urls.get(key);
  if (!url) {
    const blob = thumbnail ? thumbnailBlob(access, messageId) : fetchMedia(access.token, messageId, false);
    url = blob.then((b) => URL.createObjectURL(b));
    url.catch(() => urls.delete(key));
    urls.set(key, url);
  }
  return url;
}

export function useMediaUrl(access: MediaAccess, messageId: string | undefined, thumbnail: boolean): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (!messageId) return;
    let current = true;
    mediaUrl(access, messageId, thumbnail).then((u) => current && setUrl(u), () => undefined);
    return () => { current = false; };
  }, [access, messageId, thumbnail]);
  return url;
}

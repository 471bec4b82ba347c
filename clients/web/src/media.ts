// Media needs the bearer token, so it is fetched and shown through blob: URLs (allowed by the
// Content-Security-Policy); each message's bytes are fetched once per page.
import { useEffect, useState } from 'preact/hooks';

const urls = new Map<string, Promise<string>>();

export function mediaUrl(token: string, messageId: string, thumbnail: boolean): Promise<string> {
  const key = `${messageId}:${thumbnail ? 'thumb' : 'full'}`;
  let url = urls.get(key);
  if (!url) {
    url = fetch(`/api/v1/messages/${messageId}/media${thumbnail ? '?variant=thumb' : ''}`, { headers: { authorization: `Bearer ${token}` } })
      .then((response) => {
        if (!response.ok) throw new Error(`media ${response.status}`);
        return response.blob();
      })
      .then((blob) => URL.createObjectURL(blob));
    url.catch(() => urls.delete(key));
    urls.set(key, url);
  }
  return url;
}

export function useMediaUrl(token: string, messageId: string | undefined, thumbnail: boolean): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (!messageId) return;
    let current = true;
    mediaUrl(token, messageId, thumbnail).then((u) => current && setUrl(u), () => undefined);
    return () => { current = false; };
  }, [token, messageId, thumbnail]);
  return url;
}

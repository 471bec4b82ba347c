import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { MediaAccess, useMediaUrl } from '../media.js';

export interface LivePhotoProps {
  media: MediaAccess;
  messageId: string;
  /** The still: the chat's thumbnail, or the preview's zoomable image. */
  children: ComponentChildren;
  /** Of the wrapper; its motion video is `${testId}-video`. */
  testId: string;
}

/**
 * A live photo (docs/api.md, Live photos): its still with a LIVE badge. Hovering it with a
 * mouse, pressing the badge (also from the keyboard), or a tap on a touch screen plays the
 * motion once, muted, in place of the still, which is back when it ends. On a touch screen
 * the tap plays instead of opening or zooming; a tap while it plays does that. The video is
 * fetched on the first play.
 */
export function LivePhoto({ media, messageId, children, testId }: LivePhotoProps) {
  const [playing, setPlaying] = useState(false);
  const url = useMediaUrl(media, playing ? messageId : undefined, 'video');
  const touched = useRef(false);
  const mouse = (e: PointerEvent) => e.pointerType === 'mouse';
  return (
    <div class="live-photo" data-testid={testId} data-state={!playing ? 'still' : url ? 'playing' : 'loading'}
      onPointerDown={(e) => { touched.current = e.pointerType === 'touch'; }}
      onPointerEnter={(e) => { if (mouse(e)) setPlaying(true); }}
      onPointerLeave={(e) => { if (mouse(e)) setPlaying(false); }}
      onClickCapture={(e) => {
        if (!touched.current || playing) return;
        e.preventDefault();
        e.stopPropagation();
        setPlaying(true);
      }}>
      {children}
      {playing && url && (
        <video class="live-motion" src={url} muted autoPlay playsInline aria-hidden="true" data-testid={`${testId}-video`} onEnded={() => setPlaying(false)} />
      )}
      <button type="button" class="live-badge" aria-label="Play the live photo" disabled={playing} onClick={() => setPlaying(true)}>LIVE</button>
    </div>
  );
}

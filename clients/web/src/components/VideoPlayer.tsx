import { useDurationSeek } from './media-duration.js';

export interface VideoPlayerProps {
  /** A blob: URL of the whole file (media.ts), so seeking needs no Range requests. */
  url: string;
  label: string;
  testId: string;
  /** Start playing once the duration is known (the user already asked to play). */
  autoPlay?: boolean;
}

/** A video with the browser's controls and a duration even for a streamed WebM (useDurationSeek). */
export function VideoPlayer({ url, label, testId, autoPlay = false }: VideoPlayerProps) {
  const duration = useDurationSeek((video) => {
    if (autoPlay) void video.play().catch(() => undefined);
  });
  return <video src={url} controls playsInline preload="metadata" data-testid={testId} aria-label={label} {...duration} />;
}

/** A voice note or audio file with the browser's controls; a recorded WebM/Opus gets its duration the same way. */
export function AudioPlayer({ url, label, testId }: { url: string; label: string; testId?: string }) {
  const duration = useDurationSeek(() => undefined);
  return <audio src={url} controls preload="metadata" data-testid={testId} aria-label={label} {...duration} />;
}

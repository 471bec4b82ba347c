import { useRef } from 'preact/hooks';

export interface VideoPlayerProps {
  /** A blob: URL of the whole file (media.ts), so seeking needs no Range requests. */
  url: string;
  label: string;
  testId: string;
  /** Start playing once the duration is known (the user already asked to play). */
  autoPlay?: boolean;
}

/**
 * A video with the browser's controls. A WebM recorded by MediaRecorder (what a browser
 * sends) has no duration in its header, so Chromium reports Infinity and the scrubber does
 * not work: a seek far past the end makes it read to the end and learn the duration, then
 * the player goes back to the start. Playing starts only after that, never from the end.
 */
export function VideoPlayer({ url, label, testId, autoPlay = false }: VideoPlayerProps) {
  const findingDuration = useRef(false);
  const ready = (video: HTMLVideoElement) => {
    if (autoPlay) void video.play().catch(() => undefined);
  };
  return (
    <video src={url} controls playsInline preload="metadata" data-testid={testId} aria-label={label}
      onLoadedMetadata={(e) => {
        const video = e.currentTarget;
        if (Number.isFinite(video.duration)) return ready(video);
        findingDuration.current = true;
        video.currentTime = Number.MAX_SAFE_INTEGER;
      }}
      onSeeked={(e) => {
        if (!findingDuration.current) return;
        findingDuration.current = false;
        e.currentTarget.currentTime = 0;
        ready(e.currentTarget);
      }} />
  );
}

import { useRef } from 'preact/hooks';

/**
 * The handlers that give a <video> or <audio> its duration. A WebM recorded by MediaRecorder
 * in slices (what a browser sends: videos and voice notes) has no duration in its header, so
 * Chromium reports Infinity and the scrubber does not work: a seek far past the end makes it
 * read to the end and learn the duration, then the player goes back to the start. `onReady`
 * runs once the duration is known (never from the end).
 */
export function useDurationSeek(onReady: (element: HTMLMediaElement) => void) {
  const findingDuration = useRef(false);
  return {
    onLoadedMetadata: (e: { currentTarget: HTMLMediaElement }) => {
      const element = e.currentTarget;
      if (Number.isFinite(element.duration)) return onReady(element);
      findingDuration.current = true;
      element.currentTime = Number.MAX_SAFE_INTEGER;
    },
    onSeeked: (e: { currentTarget: HTMLMediaElement }) => {
      if (!findingDuration.current) return;
      findingDuration.current = false;
      e.currentTarget.currentTime = 0;
      onReady(e.currentTarget);
    },
  };
}

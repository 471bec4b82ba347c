import { useRef, useState } from 'preact/hooks';

export interface VoiceNote {
  bytes: Uint8Array;
  mimeType: string;
  durationMs: number;
}

/**
 * Records a voice note with the browser's microphone (MediaRecorder). Stop is offered once
 * some sound has been captured, so a note is never empty.
 */
export function VoiceRecorder({ onRecorded }: { onRecorded: (note: VoiceNote) => void }) {
  const [recording, setRecording] = useState(false);
  const [captured, setCaptured] = useState(false);
  const recorder = useRef<MediaRecorder>();

  const start = async () => {
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      alert('The microphone is not available.');
      return;
    }
    const chunks: Blob[] = [];
    const started = Date.now();
    const media = new MediaRecorder(stream);
    media.ondataavailable = (event) => {
      if (event.data.size > 0) {
        chunks.push(event.data);
        setCaptured(true);
      }
    };
    media.onstop = async () => {
      for (const track of stream.getTracks()) track.stop();
      const blob = new Blob(chunks, { type: media.mimeType });
      onRecorded({ bytes: new Uint8Array(await blob.arrayBuffer()), mimeType: media.mimeType.split(';')[0] || 'audio/webm', durationMs: Date.now() - started });
      setRecording(false);
      setCaptured(false);
    };
    media.start(250);
    recorder.current = media;
    setRecording(true);
  };

  if (!recording)
    return (
      <button type="button" class="icon" aria-label="Record a voice note" title="Record a voice note" onClick={() => void start()}>
        <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><rect x="9" y="3" width="6" height="11" rx="3" fill="none" stroke="currentColor" stroke-width="1.8" /><path d="M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" /></svg>
      </button>
    );
  return (
    <button type="button" class="recording" aria-label="Stop and send the voice note" disabled={!captured} onClick={() => recorder.current?.stop()}>
      ● Stop
    </button>
  );
}

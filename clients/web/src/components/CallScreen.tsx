import { useEffect, useRef, useState } from 'preact/hooks';
import type { CallState } from '../call.js';
import { chatInfo } from '../chat-info.js';
import { useBloc } from '../hooks.js';
import type { Session } from '../session.js';

/** The call of this device, over whichever page is open: ringing (answer or decline), or in it. */
export function CallScreen({ session }: { session: Session }) {
  const state = useCallState(session);
  const list = useBloc(session.chats);
  const { call, phase } = state;
  if (!call || !phase) {
    if (!state.error) return null;
    return (
      <div class="call-error" role="alert">
        {state.error} <button type="button" onClick={() => session.calls.dismissError()}>Dismiss</button>
      </div>
    );
  }
  const calls = session.calls;
  const members = list.members[call.chat_id] ?? [];
  const chat = list.chats.find((c) => c.id === call.chat_id);
  const nameOf = (id: string) => members.find((m) => m.user.id === id)?.user.display_name ?? (chat ? chatInfo(chat, list, session.user.id).title : 'Someone');
  const kind = call.kind === 'video' ? 'Video call' : 'Voice call';

  if (phase === 'incoming')
    return (
      <section class="call incoming" role="dialog" aria-label={`Incoming ${kind.toLowerCase()}`} data-testid="incoming-call">
        <p class="call-title">{nameOf(call.caller_id)}</p>
        <p class="call-status">Incoming {kind.toLowerCase()}…</p>
        <div class="call-controls">
          <button type="button" class="answer" onClick={() => void calls.accept()}>Answer</button>
          <button type="button" class="hang-up" onClick={() => void calls.decline()}>Decline</button>
        </div>
      </section>
    );

  const others = call.participants.filter((p) => p.user_id !== session.user.id);
  const remoteOf = (userId: string) => state.remotes.find((r) => r.userId === userId);
  const status = phase === 'outgoing' ? 'Calling…' : state.remotes.some((r) => r.media) ? kind : 'Connecting…';
  return (
    <section class="call active" role="dialog" aria-label={kind} data-testid="in-call" data-phase={phase}>
      <p class="call-status" role="status">{status}</p>
      <div class="call-videos">
        {others.map((participant) => {
          const remote = remoteOf(participant.user_id);
          return (
            <figure key={participant.user_id} class="call-peer">
              <StreamVideo stream={remote?.media} label={`${nameOf(participant.user_id)}'s camera`} testId="remote-video" />
              {participant.screen_sharing && remote?.screen && (
                <StreamVideo stream={remote.screen} label={`${nameOf(participant.user_id)}'s screen`} testId="remote-screen" />
              )}
              <figcaption>{nameOf(participant.user_id)}{participant.connected ? '' : ' (reconnecting…)'}</figcaption>
            </figure>
          );
        })}
        {state.local && call.kind === 'video' && <StreamVideo stream={state.local} label="Your camera" testId="local-video" muted />}
        {state.screen && <StreamVideo stream={state.screen} label="Your shared screen" testId="local-screen" muted />}
      </div>
      <div class="call-controls">
        <button type="button" aria-pressed={state.muted} onClick={() => calls.toggleMute()}>{state.muted ? 'Unmute' : 'Mute'}</button>
        {call.kind === 'video' && (
          <button type="button" aria-pressed={state.cameraOff} onClick={() => calls.toggleCamera()}>{state.cameraOff ? 'Turn camera on' : 'Turn camera off'}</button>
        )}
        {phase === 'active' && (state.screen
          ? <button type="button" onClick={() => void calls.stopSharing()}>Stop sharing</button>
          : <button type="button" onClick={() => void calls.shareScreen()}>Share screen</button>)}
        <button type="button" class="hang-up" onClick={() => void calls.hangUp()}>Hang up</button>
      </div>
      {state.error && <p class="error" role="alert">{state.error}</p>}
    </section>
  );
}

export function useCallState(session: Session): CallState {
  const [state, setState] = useState(session.calls.state);
  useEffect(() => session.calls.subscribe(setState), [session.calls]);
  return state;
}

function StreamVideo({ stream, label, testId, muted = false }: { stream: MediaStream | undefined; label: string; testId: string; muted?: boolean }) {
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (video.current && video.current.srcObject !== (stream ?? null)) video.current.srcObject = stream ?? null;
  }, [stream]);
  return <video ref={video} autoPlay playsInline muted={muted} aria-label={label} data-testid={testId} />;
}

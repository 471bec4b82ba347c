import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { MessageModel } from '@confab/sdk';
import { VoiceNote, VoiceRecorder } from './VoiceRecorder.js';

export interface InputBarProps {
  onSend: (text: string) => void;
  onSaveEdit: (message: MessageModel, text: string) => void;
  onTyping: () => void;
  /** The files picked at once: each is sent, except a photo and a video picked together, which are one live photo. */
  onAttach: (files: File[]) => void;
  onShareLocation: () => void;
  onVoiceNote: (note: VoiceNote) => void;
  replyTo?: MessageModel;
  editing?: MessageModel;
  onCancel: () => void;
  /** Nothing can be written (the chat is not the user's any more). */
  disabled?: boolean;
}

const liveHint = 'A photo and a short video picked together are sent as one live photo.';

export function InputBar({ onSend, onSaveEdit, onTyping, onAttach, onShareLocation, onVoiceNote, replyTo, editing, onCancel, disabled = false }: InputBarProps) {
  const [text, setText] = useState('');
  const input = useRef<HTMLTextAreaElement>(null);
  const file = useRef<HTMLInputElement>(null);

  // Before the browser handles the next input: run after paint, it could overwrite what was
  // typed in between (a fast typist, or a test that fills the field at once).
  useLayoutEffect(() => {
    if (editing) setText(editing.content);
    if (editing || replyTo) input.current?.focus();
  }, [editing, replyTo]);

  const submit = (event?: Event) => {
    event?.preventDefault();
    // Sent exactly as written (PROTOCOL.md: text is stored as sent), but only if there is something to read.
    if (disabled || !text.trim()) return;
    if (editing) onSaveEdit(editing, text);
    else onSend(text);
    setText('');
  };

  return (
    <form class="input-bar" onSubmit={submit} aria-label="Write a message">
      <fieldset disabled={disabled}>
        {(replyTo || editing) && (
          <div class="context" data-testid="input-context">
            <span>{editing ? 'Editing' : `Replying to: ${replyTo!.content || 'attachment'}`}</span>
            <button type="button" onClick={() => { setText(''); onCancel(); }} aria-label="Cancel">✕</button>
          </div>
        )}
        <div class="row">
          <input ref={file} type="file" multiple class="visually-hidden" id="attach" aria-label="Attach a photo, video or file"
            aria-describedby="attach-hint"
            onChange={(e) => {
              const chosen = [...(e.currentTarget.files ?? [])];
              if (chosen.length > 0) onAttach(chosen);
              e.currentTarget.value = '';
            }} />
          <span id="attach-hint" class="visually-hidden">{liveHint}</span>
          <label for="attach" class="attach" title={`Attach a photo, video or file. ${liveHint}`} aria-hidden="true">
            <svg viewBox="0 0 24 24" width="24" height="24"><path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" /></svg>
          </label>
          <button type="button" class="icon" aria-label="Share location" title="Share location" onClick={onShareLocation}>
            <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path d="M12 21s-6.5-6.2-6.5-11a6.5 6.5 0 0 1 13 0c0 4.8-6.5 11-6.5 11z" fill="none" stroke="currentColor" stroke-width="1.8" /><circle cx="12" cy="10" r="2.3" fill="currentColor" /></svg>
          </button>
          <VoiceRecorder onRecorded={onVoiceNote} />
          <label class="visually-hidden" for="message-input">Message</label>
          <textarea ref={input} id="message-input" rows={1} placeholder="Message" value={text}
            onInput={(e) => { setText(e.currentTarget.value); onTyping(); }}
            onKeyDown={(e) => {
              // An Enter that confirms an input method's composition (Japanese, Chinese) is not a send;
              // keyCode 229 marks it where isComposing is not set (Safari's last keydown of it).
              if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) submit(e);
              if (e.key === 'Escape' && (editing || replyTo)) { setText(''); onCancel(); }
            }} />
          <button type="submit" aria-label={editing ? 'Save edit' : 'Send'}>{editing ? 'Save' : 'Send'}</button>
        </div>
      </fieldset>
    </form>
  );
}

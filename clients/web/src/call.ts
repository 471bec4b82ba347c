// This device's part in a call: the SDK's call signalling on the session's connection, and one
// RTCPeerConnection per other participant (a mesh), negotiated the "perfect negotiation" way
// (either side may renegotiate, e.g. to add or drop a screen share; the polite side yields on
// a collision). Media goes through the ICE servers GET /calls/ice-servers hands out, relays
// only when the tab was opened with ?ice=relay (see relayOnly).
//
// A reload mid-call: the tab remembers its call (sessionStorage), and the reloaded page, on the
// same session, is still the participant the server keeps for the reconnect grace. It learns
// the call again (call.updated on connecting, GET /chats/{id}/call) and resumes it with new
// peer connections, offering to every other participant: no call.join (the server would refuse
// it as already_joined). Each description and candidate names the connection that sent it (and
// a description the one it answers), so the others replace the connection of the page that
// went away and drop signals meant for it.
import { CallSignalling, rtcConfiguration } from '@confab/sdk';
import type { CallEvent, CallKind, CallModel, CallSignal, ConfabClient } from '@confab/sdk';

/** ringing here (incoming), placed by me and not yet answered (outgoing), or taken (active). */
export type CallPhase = 'incoming' | 'outgoing' | 'active';

export interface RemoteMedia {
  userId: string;
  /** Their microphone and camera. */
  media?: MediaStream;
  /** Their screen share, while it lasts. */
  screen?: MediaStream;
}

export interface CallState {
  call?: CallModel;
  phase?: CallPhase;
  local?: MediaStream;
  screen?: MediaStream;
  remotes: RemoteMedia[];
  muted: boolean;
  cameraOff: boolean;
  error?: string;
  /**
   * The active call of each chat, in it or not (from call.updated, which every member's devices
   * get, also for each running call when the connection opens, and from GET /chats/{id}/call
   * when a chat is opened): a group's is one this device can join (call.join), also after leaving it.
   */
  running: Record<string, CallModel>;
}

const relayKey = 'confab.ice-relay';
/** The call this tab is in, so that a reload can resume it. */
const resumeKey = 'confab.call';

/**
 * Whether ICE is restricted to TURN relays: set for the tab by opening any page with
 * `?ice=relay` (the browser test does, so media provably flows through coturn).
 */
export function relayOnly(): boolean {
  if (new URLSearchParams(location.search).get('ice') === 'relay') sessionStorage.setItem(relayKey, '1');
  return sessionStorage.getItem(relayKey) === '1';
}

/** What every signal of this client carries besides the WebRTC payload. */
interface Sender {
  /** The sender's peer connection (Peer.id). */
  pc?: string;
}

interface Description extends Sender {
  type: RTCSdpType;
  sdp?: string;
  /** The stream id of the sender's screen share, so the receiver tells it from the camera. */
  screen_stream_id?: string;
  /** The receiver's peer connection this one negotiates with, once known. */
  to_pc?: string;
}

type Candidate = RTCIceCandidateInit & Sender;

interface Resumable {
  id: string;
  chat_id: string;
}

class Peer {
  readonly id = crypto.randomUUID();
  readonly pc: RTCPeerConnection;
  /** The other side's connection (their Sender.pc), from their first description. */
  remotePc: string | undefined;
  makingOffer = false;
  ignoreOffer = false;
  screenStreamId: string | undefined;
  readonly senders = new Map<MediaStreamTrack, RTCRtpSender>();
  readonly remote: RemoteMedia;
  /** Signals are applied one at a time, in the order they arrived. */
  queue: Promise<void> = Promise.resolve();

  constructor(readonly userId: string, readonly polite: boolean, configuration: RTCConfiguration) {
    this.pc = new RTCPeerConnection(configuration);
    this.remote = { userId };
  }
}

export class CallController {
  private readonly signalling: CallSignalling;
  private readonly peers = new Map<string, Peer>();
  private configuration: RTCConfiguration = {};
  private readonly relayOnly = relayOnly();
  private current: CallState = { remotes: [], muted: false, cameraOff: false, running: {} };
  private readonly listeners = new Set<(state: CallState) => void>();
  /** Calls heard to end: a running-call answer read before the end must not bring one back. */
  private readonly ended = new Set<string>();

  constructor(private readonly client: ConfabClient, private readonly me: string) {
    this.signalling = new CallSignalling(client.connection);
    this.signalling.onEvent((event) => this.onEvent(event));
    // A call that ended while the connection was down sent its call.ended to nobody here; the
    // server tells every running call again (call.updated) as the connection opens, after this.
    client.connection.onOpen(({ reconnected }) => {
      if (reconnected) this.emit({ running: {} });
      else void this.checkResumable();
    });
  }

  get state(): CallState {
    return this.current;
  }

  subscribe(listener: (state: CallState) => void): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => this.listeners.delete(listener);
  }

  /** Places a call in a chat: the camera and microphone first, so a refusal of them rings nobody. */
  async start(chatId: string, kind: CallKind): Promise<void> {
    if (this.current.call) return;
    try {
      const local = await this.openMedia(kind);
      this.emit({ local, error: undefined });
      await this.loadIceServers();
      const call = await this.signalling.start(chatId, kind);
      this.remember(call);
      this.emit({ call, phase: call.state === 'active' ? 'active' : 'outgoing' });
    } catch (error) {
      this.reset(`The call could not start: ${describe(error)}`);
    }
  }

  /** Takes the ringing call on this device and offers media to every other participant. */
  async accept(): Promise<void> {
    const ringing = this.current.call;
    if (!ringing || this.current.phase !== 'incoming') return;
    await this.enter(ringing, () => this.signalling.accept(ringing.id), 'answered');
  }

  /** Asks for the call running in a chat (opened, or reconnected, after the call started). */
  async refreshRunning(chatId: string): Promise<void> {
    const call = await this.client.rest.runningCall(chatId).catch(() => undefined);
    if (call === undefined || (call && this.ended.has(call.id))) return;
    const running = { ...this.current.running };
    if (call?.state === 'active') running[chatId] = call;
    else if (running[chatId]) delete running[chatId];
    else return;
    this.emit({ running });
  }

  /** Joins the group call running in a chat and offers media to every participant in it. */
  async join(chatId: string): Promise<void> {
    const running = this.current.running[chatId];
    if (this.current.call || !running) return;
    await this.enter(running, () => this.signalling.join(running.id), 'joined');
  }

  async decline(): Promise<void> {
    const call = this.current.call;
    if (!call) return;
    this.reset();
    await this.signalling.decline(call.id).catch(() => undefined);
  }

  /** Leaves the call (or cancels it, unanswered). */
  async hangUp(): Promise<void> {
    const call = this.current.call;
    if (!call) return;
    this.reset();
    await this.signalling.hangup(call.id).catch(() => undefined);
  }

  dismissError(): void {
    this.emit({ error: undefined });
  }

  toggleMute(): void {
    const muted = !this.current.muted;
    for (const track of this.current.local?.getAudioTracks() ?? []) track.enabled = !muted;
    this.emit({ muted });
  }

  toggleCamera(): void {
    const cameraOff = !this.current.cameraOff;
    for (const track of this.current.local?.getVideoTracks() ?? []) track.enabled = !cameraOff;
    this.emit({ cameraOff });
  }

  /** Shares the screen as a track of its own stream, added to every peer connection (a renegotiation). */
  async shareScreen(): Promise<void> {
    const call = this.current.call;
    if (!call || this.current.screen) return;
    try {
      const screen = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      // The browser's own "Stop sharing" ends the track.
      for (const track of screen.getTracks()) track.addEventListener('ended', () => void this.stopSharing());
      this.emit({ screen });
      for (const peer of this.peers.values()) this.attachLocalTracks(peer);
      await this.signalling.setScreenSharing(call.id, true);
    } catch (error) {
      this.emit({ error: `The screen could not be shared: ${describe(error)}` });
    }
  }

  async stopSharing(): Promise<void> {
    const { call, screen } = this.current;
    if (!call || !screen) return;
    for (const track of screen.getTracks()) {
      track.stop();
      for (const peer of this.peers.values()) {
        const sender = peer.senders.get(track);
        if (!sender) continue;
        peer.pc.removeTrack(sender);
        peer.senders.delete(track);
      }
    }
    this.emit({ screen: undefined });
    await this.signalling.setScreenSharing(call.id, false).catch(() => undefined);
  }

  private onEvent(event: CallEvent): void {
    switch (event.type) {
      case 'call.ring':
        if (!this.current.call) this.emit({ call: event.data.call, phase: 'incoming', error: undefined });
        return;
      case 'call.ring_stopped':
        // Answered on another device, declined there, cancelled or missed: this device stops ringing.
        if (this.current.call?.id === event.data.call_id && this.current.phase === 'incoming') this.reset();
        return;
      case 'call.updated':
        this.noteRunning(event.data.call);
        if (this.current.call?.id === event.data.call.id) this.onUpdated(event.data.call);
        else this.considerResuming(event.data.call);
        return;
      case 'call.ended':
        this.ended.add(event.data.call.id);
        this.noteRunning(event.data.call);
        this.considerResuming(event.data.call);
        if (this.current.call?.id === event.data.call.id) this.reset();
        return;
      case 'call.signal':
        // The caller may hear from the callee before the call.updated that says it was answered.
        if (this.current.call?.id === event.data.call_id && this.current.phase !== 'incoming') this.onSignal(event.data);
        return;
    }
  }

  /** Camera and microphone, then the request that puts this device in the call, then an offer to each participant. */
  private async enter(call: CallModel, request: () => Promise<CallModel>, failed: string): Promise<void> {
    try {
      const local = await this.openMedia(call.kind);
      await this.loadIceServers();
      // In the call before the ack: the events the request causes (call.ring_stopped
      // "answered", call.updated) may come first.
      this.emit({ call, local, phase: 'active', error: undefined });
      const taken = await request();
      this.remember(taken);
      this.emit({ call: taken });
      this.offerToAll(taken);
    } catch (error) {
      this.reset(`The call could not be ${failed}: ${describe(error)}`);
    }
  }

  /** Offers this device's media to every other participant (each a new peer connection). */
  private offerToAll(call: CallModel): void {
    for (const participant of call.participants) {
      if (participant.user_id !== this.me) this.attachLocalTracks(this.peer(participant.user_id));
    }
  }

  private remember(call: CallModel): void {
    sessionStorage.setItem(resumeKey, JSON.stringify({ id: call.id, chat_id: call.chat_id } satisfies Resumable));
  }

  private remembered(): Resumable | undefined {
    const saved = sessionStorage.getItem(resumeKey);
    return saved ? (JSON.parse(saved) as Resumable) : undefined;
  }

  /** On the first connection of the page: is the call this tab was in still running? */
  private async checkResumable(): Promise<void> {
    const remembered = this.remembered();
    if (!remembered || this.current.call) return;
    const call = await this.client.rest.runningCall(remembered.chat_id).catch(() => undefined);
    if (call === undefined) return;
    if (call === null || call.id !== remembered.id) sessionStorage.removeItem(resumeKey);
    else this.considerResuming(call);
  }

  /** The call this tab was in before a reload: resumed while its user is still a participant, else forgotten. */
  private considerResuming(call: CallModel): void {
    if (this.current.call || this.remembered()?.id !== call.id) return;
    if (call.state !== 'ended' && call.participants.some((p) => p.user_id === this.me)) void this.resume(call);
    else sessionStorage.removeItem(resumeKey);
  }

  private async resume(call: CallModel): Promise<void> {
    // In the call at once, so the second call.updated of the reconnect does not resume it again.
    this.emit({ call, phase: call.state === 'active' ? 'active' : 'outgoing', error: undefined });
    try {
      const local = await this.openMedia(call.kind);
      await this.loadIceServers();
      if (this.current.call?.id !== call.id) {
        for (const track of local.getTracks()) track.stop();
        return;
      }
      this.emit({ local });
      this.offerToAll(this.current.call);
    } catch (error) {
      // Still a participant on the server: leave properly rather than linger until the grace ends.
      await this.hangUp();
      this.emit({ error: `The call could not be resumed: ${describe(error)}` });
    }
  }

  private noteRunning(call: CallModel): void {
    const running = { ...this.current.running };
    if (call.state === 'active') running[call.chat_id] = call;
    else if (running[call.chat_id]?.id === call.id) delete running[call.chat_id];
    else return;
    this.emit({ running });
  }

  private onUpdated(call: CallModel): void {
    const present = new Set(call.participants.map((p) => p.user_id));
    for (const [userId, peer] of this.peers) {
      if (present.has(userId)) continue;
      peer.pc.close();
      this.peers.delete(userId);
    }
    const phase = this.current.phase === 'outgoing' && call.state === 'active' ? 'active' : this.current.phase;
    this.emit({ call, phase, remotes: this.remotes() });
  }

  private onSignal(signal: CallSignal): void {
    const peer = this.peer(signal.from_user_id);
    peer.queue = peer.queue
      .then(() => this.applySignal(signal))
      .catch((error) => console.warn(`call: a ${signal.kind} from a participant failed: ${describe(error)}`));
  }

  private async applySignal(signal: CallSignal): Promise<void> {
    let peer = this.peers.get(signal.from_user_id);
    if (!peer) return;
    if (signal.kind === 'candidate') {
      const candidate = signal.payload as Candidate;
      // One of a connection of theirs we no longer (or do not yet) negotiate with.
      if (candidate.pc !== peer.remotePc) return;
      return this.onCandidate(peer, candidate);
    }
    const description = signal.payload as unknown as Description;
    // Meant for a connection of a page of ours that is gone (this tab before its reload).
    if (description.to_pc !== undefined && description.to_pc !== peer.id) return;
    if (peer.remotePc !== undefined && description.pc !== peer.remotePc) {
      // A new connection of theirs (their page reloaded) offers afresh; an answer of an old one is stale.
      if (description.type !== 'offer') return;
      peer = this.replacePeer(peer);
    }
    peer.remotePc = description.pc;
    await this.onDescription(peer, description);
  }

  /** A fresh connection to the same participant, taking over the old one's queue of signals. */
  private replacePeer(old: Peer): Peer {
    old.pc.close();
    this.peers.delete(old.userId);
    const fresh = this.peer(old.userId);
    fresh.queue = old.queue;
    return fresh;
  }

  private async onDescription(peer: Peer, description: Description): Promise<void> {
    const { pc } = peer;
    const collision = description.type === 'offer' && (peer.makingOffer || pc.signalingState !== 'stable');
    peer.ignoreOffer = !peer.polite && collision;
    if (peer.ignoreOffer) return;
    peer.screenStreamId = description.screen_stream_id;
    await pc.setRemoteDescription({ type: description.type, sdp: description.sdp });
    if (description.type !== 'offer') return;
    // Our tracks go into the transceivers the offer made, so the answer is send and receive.
    this.attachLocalTracks(peer);
    await pc.setLocalDescription();
    await this.sendDescription(peer);
  }

  private async onCandidate(peer: Peer, { pc: _sender, ...candidate }: Candidate): Promise<void> {
    try {
      await peer.pc.addIceCandidate(candidate);
    } catch (error) {
      // A candidate of an offer we ignored (a collision we won) does not apply.
      if (!peer.ignoreOffer) throw error;
    }
  }

  /** The peer connection to one other participant, made on first need. */
  private peer(userId: string): Peer {
    const existing = this.peers.get(userId);
    if (existing) return existing;
    const peer = new Peer(userId, this.me < userId, this.configuration);
    const { pc } = peer;
    pc.onnegotiationneeded = async () => {
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        await this.sendDescription(peer);
      } catch (error) {
        console.warn(`call: an offer failed: ${describe(error)}`);
      } finally {
        peer.makingOffer = false;
      }
    };
    pc.onicecandidate = ({ candidate }) => {
      const call = this.current.call;
      if (candidate && call) void this.signalling.signal(call.id, userId, 'candidate', { ...candidate.toJSON(), pc: peer.id } satisfies Candidate).catch(() => undefined);
    };
    pc.ontrack = ({ track, streams }) => {
      const stream = streams[0] ?? new MediaStream([track]);
      if (stream.id === peer.screenStreamId) {
        peer.remote.screen = stream;
        // A share stopped by the sender is a track removed by its renegotiation.
        stream.onremovetrack = () => {
          if (stream.getTracks().length === 0 && peer.remote.screen === stream) peer.remote.screen = undefined;
          this.emit({ remotes: this.remotes() });
        };
      } else {
        peer.remote.media = stream;
      }
      this.emit({ remotes: this.remotes() });
    };
    this.peers.set(userId, peer);
    this.emit({ remotes: this.remotes() });
    return peer;
  }

  private attachLocalTracks(peer: Peer): void {
    for (const stream of [this.current.local, this.current.screen]) {
      for (const track of stream?.getTracks() ?? []) {
        if (!peer.senders.has(track)) peer.senders.set(track, peer.pc.addTrack(track, stream!));
      }
    }
  }

  private async sendDescription(peer: Peer): Promise<void> {
    const call = this.current.call;
    const description = peer.pc.localDescription;
    if (!call || !description) return;
    const payload: Description = {
      type: description.type, sdp: description.sdp, screen_stream_id: this.current.screen?.id, pc: peer.id, to_pc: peer.remotePc,
    };
    await this.signalling.signal(call.id, peer.userId, description.type === 'offer' ? 'offer' : 'answer', payload);
  }

  private async openMedia(kind: CallKind): Promise<MediaStream> {
    return navigator.mediaDevices.getUserMedia({ audio: true, video: kind === 'video' });
  }

  private async loadIceServers(): Promise<void> {
    this.configuration = rtcConfiguration(await this.client.rest.iceServers(), { relayOnly: this.relayOnly });
  }

  private remotes(): RemoteMedia[] {
    return [...this.peers.values()].map((peer) => ({ ...peer.remote }));
  }

  /** Ends this device's part: connections closed, camera, microphone and screen released. */
  private reset(error?: string): void {
    sessionStorage.removeItem(resumeKey);
    for (const peer of this.peers.values()) peer.pc.close();
    this.peers.clear();
    for (const stream of [this.current.local, this.current.screen]) for (const track of stream?.getTracks() ?? []) track.stop();
    this.current = { remotes: [], muted: false, cameraOff: false, error, running: this.current.running };
    for (const listener of this.listeners) listener(this.current);
  }

  private emit(change: Partial<CallState>): void {
    this.current = { ...this.current, ...change };
    for (const listener of this.listeners) listener(this.current);
  }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

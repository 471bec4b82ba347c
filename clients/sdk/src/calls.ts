// Typed helpers for a call's signalling over the WebSocket (docs/api.md, Calls; the call.*
// frames of docs/asyncapi.yaml), and the RTCConfiguration made from GET /calls/ice-servers.
// The WebRTC itself (peer connections, media) stays in the app.
import type { Connection } from './connection.js';
import type { CallKind, CallModel, ClientEventData, IceServerList, ServerEvent, ServerEventFrames } from './types.js';

export type CallEventType = 'call.ring' | 'call.ring_stopped' | 'call.updated' | 'call.ended' | 'call.signal';
export type CallEvent = ServerEventFrames[CallEventType];
/** An offer, answer or ICE candidate another participant sent. */
export type CallSignal = ServerEventFrames['call.signal']['data'];
export type CallSignalKind = ClientEventData<'call.signal'>['kind'];

const callEventTypes: ReadonlySet<string> = new Set<CallEventType>(['call.ring', 'call.ring_stopped', 'call.updated', 'call.ended', 'call.signal']);

export function isCallEvent(event: ServerEvent): event is CallEvent {
  return callEventTypes.has(event.type);
}

/** The call.* requests of one connection, each resolving with its ack (the call, where there is one). */
export class CallSignalling {
  constructor(private readonly connection: Connection) {}

  async start(chatId: string, kind: CallKind): Promise<CallModel> {
    return (await this.connection.request('call.start', { chat_id: chatId, kind })).call;
  }
  async accept(callId: string): Promise<CallModel> {
    return (await this.connection.request('call.accept', { call_id: callId })).call;
  }
  async join(callId: string): Promise<CallModel> {
    return (await this.connection.request('call.join', { call_id: callId })).call;
  }
  async decline(callId: string): Promise<void> {
    await this.connection.request('call.decline', { call_id: callId });
  }
  /** Leaves the call; before any answer the caller's hang-up cancels it. */
  async hangup(callId: string): Promise<void> {
    await this.connection.request('call.hangup', { call_id: callId });
  }
  async setScreenSharing(callId: string, sharing: boolean): Promise<void> {
    await this.connection.request(sharing ? 'call.screen_share.start' : 'call.screen_share.stop', { call_id: callId });
  }
  /** Relays `payload` (an RTCSessionDescriptionInit or RTCIceCandidateInit, say) to one other participant. */
  async signal(callId: string, toUserId: string, kind: CallSignalKind, payload: object): Promise<void> {
    await this.connection.request('call.signal', { call_id: callId, to_user_id: toUserId, kind, payload: payload as Record<string, unknown> });
  }

  /** The call.* frames the server pushes; returns the unsubscribe. */
  onEvent(listener: (event: CallEvent) => void): () => void {
    return this.connection.onEvent((event) => {
      if (isCallEvent(event)) listener(event);
    });
  }
}

/** The RTCPeerConnection configuration for a server's ICE list; `relayOnly` keeps media on the TURN relays. */
export function rtcConfiguration(list: IceServerList, options: { relayOnly?: boolean } = {}): RTCConfiguration {
  return {
    iceServers: list.ice_servers.map(({ urls, username, credential }) => ({
      urls,
      ...(username === undefined ? {} : { username }),
      ...(credential === undefined ? {} : { credential }),
    })),
    iceTransportPolicy: options.relayOnly ? 'relay' : 'all',
  };
}

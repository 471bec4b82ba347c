// Friendly names for the generated types (src/generated), which come from docs/openapi.yaml
// and docs/asyncapi.yaml: every model, request and event the SDK uses is one of these.
import type { components } from './generated/openapi.js';
import type { ClientEventFrames, ServerEventFrames, components as eventComponents } from './generated/asyncapi.js';

export type Schemas = components['schemas'];

export type UserModel = Schemas['UserModel'];
export type ChatModel = Schemas['ChatModel'];
export type ChatSettings = Schemas['ChatSettings'];
export type ChatMemberModel = Schemas['ChatMemberModel'];
export type MessageModel = Schemas['MessageModel'];
export type MediaModel = Schemas['MediaModel'];
export type MediaKind = Schemas['MediaKind'];
export type ReactionModel = Schemas['Reaction'];
export type PollModel = Schemas['PollModel'];
export type Role = Schemas['Role'];
export type ErrorCode = Schemas['ErrorCode'];
export type ErrorBody = Schemas['Error'];

export type SignedIn = Schemas['SignedIn'];
export type RegisterRequest = Schemas['RegisterRequest'];
export type LoginRequest = Schemas['LoginRequest'];
export type CreateChatRequest = Schemas['CreateDirectChatRequest'] | Schemas['CreateGroupChatRequest'];
export type UpdateChatRequest = Schemas['UpdateChatRequest'];
export type UpdateMemberRequest = Schemas['UpdateMemberRequest'];
// What a user's app sends: `system` messages come only from the host backend's server API.
export type SendMessageRequest = Omit<Schemas['SendMessageRequest'], 'type'> & {
  type: Exclude<Schemas['SendMessageRequest']['type'], 'system'>;
};
export type EditMessageRequest = Schemas['EditMessageRequest'];
export type MediaMetadata = Schemas['MediaMetadata'];

export type ChatPage = Schemas['ChatPage'];
export type MemberPage = Schemas['MemberPage'];
export type MembersAdded = Schemas['MembersAdded'];
export type MessagePage = Schemas['MessagePage'];
export type SyncPage = Schemas['SyncPage'];
export type UserPage = Schemas['UserPage'];
export type IceServerList = Schemas['IceServerList'];

export type CallModel = eventComponents['schemas']['CallModel'];
export type CallParticipant = eventComponents['schemas']['CallParticipant'];
export type CallKind = CallModel['kind'];

export type { ClientEventFrames, ServerEventFrames };
export type ClientEventType = keyof ClientEventFrames;
export type ServerEventType = keyof ServerEventFrames;
/** The `data` of a client event. */
export type ClientEventData<T extends ClientEventType> = ClientEventFrames[T]['frame']['data'];
/** The `data` of the `ack` that answers a client event. */
export type AckData<T extends ClientEventType> = ClientEventFrames[T]['ack']['data'];
/** A frame the server pushes. */
export type ServerEvent = ServerEventFrames[ServerEventType];

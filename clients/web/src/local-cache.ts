// The SDK's MemoryCache kept in localStorage, so a reload or an offline start shows the last
// chats and messages at once and then syncs (the SDK resyncs each cached chat from its version).
import { MemoryCache } from '@confab/sdk';
import type { ChatMemberModel, ChatModel, MessageModel } from '@confab/sdk';

const keptMessagesPerChat = 300;

interface Snapshot {
  chats: ChatModel[];
  messages: Record<string, MessageModel[]>;
  members: Record<string, ChatMemberModel[]>;
  reads: Record<string, Record<string, number>>;
  versions: Record<string, number>;
}

export class LocalCache extends MemoryCache {
  private readonly chatIds = new Set<string>();
  private saveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly key: string) {
    super();
    const saved = localStorage.getItem(key);
    if (!saved) return;
    try {
      const snapshot = JSON.parse(saved) as Snapshot;
      // MemoryCache's methods finish synchronously: the cache is filled before first use.
      void super.putChats(snapshot.chats);
      for (const [chatId, messages] of Object.entries(snapshot.messages)) void super.putMessages(chatId, messages);
      for (const [chatId, members] of Object.entries(snapshot.members)) void super.putMembers(chatId, members);
      for (const [chatId, reads] of Object.entries(snapshot.reads))
        for (const [userId, seq] of Object.entries(reads)) void super.putRead(chatId, userId, seq);
      for (const [chatId, version] of Object.entries(snapshot.versions)) void super.putSyncVersion(chatId, version);
      for (const chat of snapshot.chats) this.chatIds.add(chat.id);
      for (const chatId of Object.keys(snapshot.messages)) this.chatIds.add(chatId);
    } catch {
      localStorage.removeItem(key);
    }
  }

  override async putChats(chats: ChatModel[]) { await super.putChats(chats); chats.forEach((c) => this.chatIds.add(c.id)); this.save(); }
  override async removeChat(chatId: string) { await super.removeChat(chatId); this.chatIds.delete(chatId); this.save(); }
  override async putMessages(chatId: string, messages: MessageModel[]) { await super.putMessages(chatId, messages); this.chatIds.add(chatId); this.save(); }
  override async removeMessages(chatId: string, ids: string[]) { await super.removeMessages(chatId, ids); this.save(); }
  override async putMembers(chatId: string, members: ChatMemberModel[]) { await super.putMembers(chatId, members); this.save(); }
  override async removeMember(chatId: string, userId: string) { await super.removeMember(chatId, userId); this.save(); }
  override async putRead(chatId: string, userId: string, seq: number) { await super.putRead(chatId, userId, seq); this.save(); }
  override async putSyncVersion(chatId: string, version: number) { await super.putSyncVersion(chatId, version); this.save(); }

  /** Writes at most once per tick of changes. */
  private save(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.snapshot().then((snapshot) => {
        try {
          localStorage.setItem(this.key, JSON.stringify(snapshot));
        } catch {
          // Storage full: the cache stays in memory for this page.
        }
      });
    }, 100);
  }

  private async snapshot(): Promise<Snapshot> {
    const snapshot: Snapshot = { chats: await this.chats(), messages: {}, members: {}, reads: {}, versions: await this.syncVersions() };
    for (const chatId of this.chatIds) {
      snapshot.messages[chatId] = (await this.messages(chatId)).slice(-keptMessagesPerChat);
      snapshot.members[chatId] = await this.members(chatId);
      snapshot.reads[chatId] = await this.readState(chatId);
    }
    return snapshot;
  }
}

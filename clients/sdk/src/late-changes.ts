// A copy of a message read before a change to it (a history page still on its way when the
// change's event came) must not undo the change, and a message the user hid must not come back
// with a copy read before the hiding. The cache merges by version, so once it holds a message
// an older copy loses by itself; what it cannot do alone is remember changes to messages it does
// not hold yet. These are kept here and applied to a copy of the message when one arrives.
import type { MessageModel } from './types.js';

interface Change {
  version: number;
  apply: (older: MessageModel) => MessageModel;
}

/**
 * How many messages' changes are remembered (the least recently changed are forgotten first).
 * A page overtaken by a change was read at most one request timeout before it arrives, so
 * only the changes of the last moments matter; the bound keeps a long session's memory flat.
 */
const rememberedMessages = 1000;

export class LateChanges {
  private readonly changes = new Map<string, Change[]>();
  private readonly hidden = new Set<string>();

  /** Remembers a change (at `version`) to a message the cache does not hold, for a copy of it that comes later. */
  keep(messageId: string, version: number, apply: (older: MessageModel) => MessageModel): void {
    const known = this.changes.get(messageId) ?? [];
    // Deleted and set again: Map order is then the order of the last change, oldest first.
    this.changes.delete(messageId);
    this.changes.set(messageId, [...known, { version, apply }].sort((a, b) => a.version - b.version));
    for (const [leastRecent] of this.changes) {
      if (this.changes.size <= rememberedMessages) break;
      this.changes.delete(leastRecent);
    }
  }

  /** Messages the user hid: no copy brings them back (docs/api.md, Hiding messages). */
  hide(messageIds: readonly string[]): void {
    for (const id of messageIds) {
      this.hidden.add(id);
      this.changes.delete(id);
    }
  }

  isHidden(messageId: string): boolean {
    return this.hidden.has(messageId);
  }

  /** The copies as the messages now are: the hidden ones left out, each brought up to the changes newer than it. */
  bringUpToDate(messages: readonly MessageModel[]): MessageModel[] {
    return messages
      .filter((message) => !this.hidden.has(message.id))
      .map((message) => (this.changes.get(message.id) ?? [])
        .reduce((copy, change) => (change.version > copy.version ? change.apply(copy) : copy), message));
  }
}

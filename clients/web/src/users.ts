import type { UserModel } from '@confab/sdk';
import type { Session } from './session.js';

/** The users with exactly these usernames; throws naming the first one not found. */
export async function usersNamed(session: Session, usernames: string[]): Promise<UserModel[]> {
  const found: UserModel[] = [];
  for (const username of usernames) {
    const user = (await session.client.rest.searchUsers(username)).users.find((u) => u.username === username);
    if (!user) throw new Error(`No user named ${username}`);
    found.push(user);
  }
  return found;
}

export const usernameList = (text: string) => text.split(/[\s,]+/).filter(Boolean);

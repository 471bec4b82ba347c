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

const profiles = new WeakMap<Session, Map<string, Promise<UserModel>>>();

/** A user's profile (GET /users/{id}), asked once per session; one that failed is asked again next time. */
export function profileOf(session: Session, id: string): Promise<UserModel> {
  const known = profiles.get(session) ?? new Map<string, Promise<UserModel>>();
  profiles.set(session, known);
  let profile = known.get(id);
  if (!profile) {
    profile = session.client.rest.user(id);
    profile.catch(() => known.delete(id));
    known.set(id, profile);
  }
  return profile;
}

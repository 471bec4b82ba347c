import { ConfabError } from '@confab/sdk';

/** The server says there is no such thing for this user: 404, or 400 for an id that is not one (a mistyped address). */
export const isNotFound = (error: unknown) => error instanceof ConfabError && (error.code === 'not_found' || error.code === 'bad_request');

export const chatNotFound = 'Chat not found: it does not exist or you are not a member.';

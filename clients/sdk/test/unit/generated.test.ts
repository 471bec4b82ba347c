// The committed types are what docs/openapi.yaml and docs/asyncapi.yaml generate now: a change
// to the server's documents that the SDK has not taken fails here.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { test } from 'node:test';
import { clientEventTypes, serverEventTypes } from '../../src/index.js';

const sdk = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('src/generated is up to date with docs/openapi.yaml and docs/asyncapi.yaml', async () => {
  const { generate } = (await import(path.join(sdk, 'scripts/generate-types.mjs'))) as { generate: () => Promise<Record<string, string>> };
  for (const [name, text] of Object.entries(await generate())) {
    const committed = await readFile(path.join(sdk, 'src/generated', name), 'utf8');
    assert.ok(committed === text, `src/generated/${name} is out of date: run npm run generate in clients/sdk`);
  }
});

test('the event lists come from the AsyncAPI operations', () => {
  for (const type of ['message.send', 'message.edit', 'message.delete', 'reaction.add', 'reaction.remove', 'typing.start', 'typing.stop', 'read.mark', 'sync', 'ping']) {
    assert.ok((clientEventTypes as readonly string[]).includes(type), type);
  }
  for (const type of ['message.new', 'message.updated', 'message.deleted', 'typing.update', 'read.updated', 'chat.created', 'chat.updated', 'chat.deleted', 'member.added', 'member.updated', 'member.removed', 'presence.update']) {
    assert.ok((serverEventTypes as readonly string[]).includes(type), type);
  }
});

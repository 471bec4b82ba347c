// The web client in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core;
// nothing downloads a browser) against the real confab serving clients/web/dist, on a fresh
// database of the test PostgreSQL. Two users in two browser contexts chat live; screenshots
// of each page at phone and desktop sizes go to CONFAB_WEB_ARTIFACTS (the build directory).
// Every wait is for an element or state, never a fixed sleep.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { mkdir, writeFile } from 'node:fs/promises';
import { Connection, RestClient } from '../../sdk/dist/src/index.js';
import { nodeWebSocketFactory } from '../../sdk/dist/src/node.js';
import { databaseConfigured, skipReason, TestDatabase, TestServer } from '../../sdk/dist/test/support/server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');
const artifacts = process.env.CONFAB_WEB_ARTIFACTS ?? path.join(here, '..', 'artifacts');
const phone = { width: 390, height: 844 };
const desktop = { width: 1280, height: 800 };
const timeout = 15_000;

/** A small solid-colour PNG, so the server can make a real thumbnail of it. */
function png(width, height, [r, g, b]) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat())]);
  const pixels = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(pixels)), chunk('IEND', Buffer.alloc(0))]);
}

/**
 * About a second of an animated 160x120 canvas recorded with MediaRecorder in the page, as
 * base64 of the WebM bytes. Recorded in 100 ms slices, as an app streaming its recording does
 * (the voice recorder here too): such a WebM has no duration in its header (Chromium writes
 * one only when given no timeslice), so a player reports Infinity until it finds the end.
 * The canvas is drawn from a timer, not requestAnimationFrame, so a page in the background
 * still records.
 */
function recordClip(page) {
  return page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 160;
    canvas.height = 120;
    const context = canvas.getContext('2d');
    const started = performance.now();
    const draw = () => {
      const t = (performance.now() - started) / 1000;
      context.fillStyle = `hsl(${Math.round(t * 360)}, 80%, 50%)`;
      context.fillRect(0, 0, 160, 120);
      context.fillStyle = '#fff';
      context.fillRect(Math.min(140, t * 140), 50, 20, 20);
    };
    draw();
    const mimeType = ['video/webm;codecs=vp8', 'video/webm'].find((type) => MediaRecorder.isTypeSupported(type));
    const recorder = new MediaRecorder(canvas.captureStream(30), { mimeType });
    const chunks = [];
    recorder.ondataavailable = (event) => { if (event.data.size > 0) chunks.push(event.data); };
    const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
    recorder.start(100);
    await new Promise((resolve) => {
      const timer = setInterval(() => {
        draw();
        if (performance.now() - started >= 1000) { clearInterval(timer); resolve(); }
      }, 33);
    });
    recorder.stop();
    await stopped;
    const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
    let binary = '';
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary);
  });
}

/**
 * The <video> of `testId` really plays the recorded clip: it has a current frame
 * (readyState >= 2), a finite duration above 0 (waited for: it starts as Infinity, see
 * recordClip), frames of the canvas's size, and after play() its currentTime advances and
 * frames are decoded. `autoPlayed`: it also started by itself (played ranges).
 */
async function assertPlays(page, testId, { autoPlayed }) {
  const selector = `[data-testid=${testId}]`;
  await page.locator(selector).waitFor();
  await page.waitForFunction((s) => {
    const video = document.querySelector(s);
    return video.readyState >= 2 && Number.isFinite(video.duration) && video.duration > 0;
  }, selector);
  if (autoPlayed) await page.waitForFunction((s) => document.querySelector(s).played.length > 0, selector);
  const size = await page.locator(selector).evaluate((video) => [video.videoWidth, video.videoHeight]);
  assert.deepEqual(size, [160, 120]);
  const from = await page.locator(selector).evaluate(async (video) => {
    video.muted = true;
    video.pause();
    video.currentTime = 0;
    await video.play();
    return video.currentTime;
  });
  await page.waitForFunction(([s, t]) => document.querySelector(s).currentTime > t + 0.25, [selector, from]);
  const frames = await page.locator(selector).evaluate((video) => video.getVideoPlaybackQuality().totalVideoFrames);
  assert.ok(frames > 0, `${frames} frames decoded`);
}

describe('web client in Chromium', { skip: databaseConfigured() ? false : skipReason }, () => {
  let database, server, browser;
  const users = {};
  const suffix = Math.random().toString(36).slice(2, 8);

  const shoot = async (page, name) => {
    mkdirSync(artifacts, { recursive: true });
    for (const [size, viewport] of [['phone', phone], ['desktop', desktop]]) {
      await page.setViewportSize(viewport);
      await page.screenshot({ path: path.join(artifacts, `${name}-${size}.png`) });
    }
    await page.setViewportSize(phone);
  };

  const openUser = async (name) => {
    const context = await browser.newContext({
      viewport: phone, baseURL: server.baseUrl, permissions: ['geolocation', 'microphone'], geolocation: { latitude: 52.52, longitude: 13.405 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    page.on('dialog', (dialog) => void dialog.accept());
    const errors = [];
    page.on('console', (message) => { if (message.type() === 'error') errors.push(`${message.text()} ${message.location().url ?? ''}`); });
    users[name] = { context, page, errors, username: `${name}_${suffix}` };
    return users[name];
  };

  const register = async ({ page, username }, displayName) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'New here? Register' }).click();
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Display name').fill(displayName);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Register', exact: true }).click();
    await page.getByRole('heading', { name: 'Chats' }).waitFor();
  };

  /** The message whose own text (not a quote of it) is exactly `text`. */
  const message = (page, text) => page.getByTestId('message').filter({ has: page.getByTestId('content').getByText(text, { exact: true }) });
  const send = async (page, text) => {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByLabel('Message', { exact: true }).press('Enter');
  };
  const act = async (page, text, action) => {
    await message(page, text).getByRole('button', { name: 'Message actions' }).click();
    await message(page, text).getByRole('menuitem', { name: action }).click();
  };

  /** A REST call as the user signed in on `page` (their token from the saved sign-in), from outside the page. */
  const restAs = async (page, method, apiPath, body) => {
    const token = await page.evaluate(() => JSON.parse(localStorage.getItem('confab.session')).token);
    const response = await fetch(`${server.baseUrl}/api/v1${apiPath}`, {
      method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body && JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${apiPath}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };

  /** Opens an app address the way the app's links do (history.pushState, no page load): the tab keeps its media. */
  const openInApp = (page, address) => page.evaluate((to) => {
    history.pushState(null, '', to);
    dispatchEvent(new PopStateEvent('popstate'));
  }, address);

  /** The id of the newest message of the page's open chat whose media is the file `fileName`, once the server has it. */
  // Runs `ask` in the page until it answers something truthy, and returns that. Not
  // waitForFunction: it takes an async predicate's promise for a truthy answer at once.
  const untilInPage = async (page, ask, arg) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const answer = await page.evaluate(ask, arg);
      if (answer) return answer;
      assert.ok(Date.now() < deadline, `no answer from ${ask}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const newestMediaId = (page, fileName) => untilInPage(page, async ([chat, name]) => {
    const { token } = JSON.parse(localStorage.getItem('confab.session'));
    const response = await fetch(`/api/v1/chats/${chat}/messages?limit=10`, { headers: { authorization: `Bearer ${token}` } });
    return response.ok && (await response.json()).messages.find((m) => m.media?.file_name === name)?.id;
  }, [new URL(page.url()).pathname.split('/')[2], fileName]);

  before(async () => {
    database = new TestDatabase();
    server = new TestServer(database, { CONFAB_WEB_ROOT: dist });
    await server.start();
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required'],
    });
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    database?.drop();
  });

  test('two users register, start a chat and see each other live', async () => {
    const ann = await openUser('ann');
    const bob = await openUser('bob');
    await ann.page.goto('/');
    await shoot(ann.page, 'sign-in');
    await register(ann, 'Ann');
    await register(bob, 'Bob');

    await ann.page.getByPlaceholder('Username to chat with').fill(bob.username);
    await ann.page.getByRole('button', { name: 'Start chat' }).click();
    await ann.page.getByRole('heading', { name: 'Bob' }).waitFor();
    await ann.page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    users.chatPath = new URL(ann.page.url()).pathname;

    // Bob's list shows the new chat live; he opens it.
    await bob.page.getByRole('link', { name: /^Ann/ }).click();
    await bob.page.getByRole('heading', { name: 'Ann' }).waitFor();

    // Typing, then the message, then Ann sees it read.
    await ann.page.getByLabel('Message', { exact: true }).pressSequentially('Hello Bob', { delay: 20 });
    await bob.page.getByTestId('chat-status').filter({ hasText: 'Ann is typing…' }).waitFor();
    await ann.page.getByLabel('Message', { exact: true }).press('Enter');
    await message(bob.page, 'Hello Bob').waitFor();
    await message(ann.page, 'Hello Bob').locator('[data-testid=tick][data-state=read]').waitFor();

    // An Enter that confirms an input method's composition (isComposing, or keyCode 229) does not send.
    const input = ann.page.getByLabel('Message', { exact: true });
    await input.fill('変換');
    await input.evaluate((textarea) => {
      for (const init of [{ isComposing: true }, { keyCode: 229 }])
        textarea.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true, ...init }));
    });
    await input.press('End');
    await input.pressSequentially(' done', { delay: 20 });
    await input.press('Enter');
    await message(bob.page, '変換 done').waitFor();

    // The other way: typing and a reply.
    await act(bob.page, 'Hello Bob', 'Reply');
    await bob.page.getByLabel('Message', { exact: true }).pressSequentially('Hi Ann', { delay: 20 });
    await ann.page.getByTestId('chat-status').filter({ hasText: 'Bob is typing…' }).waitFor();
    await bob.page.getByLabel('Message', { exact: true }).press('Enter');
    await message(ann.page, 'Hi Ann').getByTestId('reply-quote').filter({ hasText: 'Hello Bob' }).waitFor();
    await message(bob.page, 'Hi Ann').locator('[data-testid=tick][data-state=read]').waitFor();

    // A reaction, an edit and a deletion, each seen live by the other.
    await act(bob.page, 'Hello Bob', 'React 👍');
    await message(ann.page, 'Hello Bob').getByTestId('reaction').filter({ hasText: '👍 1' }).waitFor();
    await act(ann.page, 'Hello Bob', 'Edit');
    await ann.page.getByLabel('Message', { exact: true }).fill('Hello Bob, edited');
    await ann.page.getByLabel('Message', { exact: true }).press('Enter');
    await message(bob.page, 'Hello Bob, edited').getByTestId('edited').waitFor();
    await send(ann.page, 'To be deleted');
    await message(bob.page, 'To be deleted').waitFor();
    await act(ann.page, 'To be deleted', 'Delete');
    await bob.page.getByText('Message deleted', { exact: true }).waitFor();
    assert.equal(await message(bob.page, 'To be deleted').count(), 0);
    await shoot(ann.page, 'chat');

    // The list: Bob online, his new message as the last one, unread until Ann opens the chat.
    await ann.page.getByRole('link', { name: 'Back to chats' }).click();
    const row = ann.page.getByTestId('chat-row').filter({ hasText: 'Bob' });
    await row.getByTestId('chat-preview').filter({ hasText: 'Message deleted' }).waitFor();
    await send(bob.page, 'Are you there?');
    await row.getByTestId('chat-preview').filter({ hasText: 'Are you there?' }).waitFor();
    await row.getByTestId('unread').filter({ hasText: '1' }).waitFor();
    await ann.page.getByRole('link', { name: /^Bob, online, 1 unread$/ }).waitFor();
    await shoot(ann.page, 'chat-list');
    await ann.page.goto(users.chatPath);
  });

  test('a thread reply as the chat\'s newest message is read by opening the chat: the unread badge clears', async () => {
    const { ann, bob } = users;
    const chatId = users.chatPath.split('/').pop();
    await ann.page.getByRole('link', { name: 'Back to chats' }).click();
    const row = ann.page.getByTestId('chat-row').filter({ hasText: 'Bob' });
    await row.waitFor();
    await row.getByTestId('unread').waitFor({ state: 'detached' });
    // Bob replies in the thread of his last message (over REST: the web client does not show threads).
    const { messages } = await restAs(bob.page, 'GET', `/chats/${chatId}/messages?limit=5`);
    const root = messages.find((m) => m.content === 'Are you there?');
    await restAs(bob.page, 'POST', `/chats/${chatId}/messages`, { type: 'text', content: 'a reply in the thread', thread_root_id: root.id });
    await row.getByTestId('unread').filter({ hasText: '1' }).waitFor();
    // Opening the chat reads it all, the reply included, though the reply is not in its timeline.
    await row.click();
    await message(ann.page, 'Are you there?').waitFor();
    await untilInPage(ann.page, async (id) => {
      const { token } = JSON.parse(localStorage.getItem('confab.session'));
      const response = await fetch(`/api/v1/chats/${id}`, { headers: { authorization: `Bearer ${token}` } });
      return response.ok && (await response.json()).me.unread_count === 0;
    }, chatId);
    await ann.page.getByRole('link', { name: 'Back to chats' }).click();
    await row.waitFor();
    await row.getByTestId('unread').waitFor({ state: 'detached' });
    await ann.page.goto(users.chatPath);
  });

  test('a reply\'s quote of a message older than the loaded window follows its edit and its deletion live', async () => {
    const { ann, bob } = users;
    const annId = await ann.page.evaluate(() => JSON.parse(localStorage.getItem('confab.session')).user.id);
    const group = await restAs(bob.page, 'POST', '/chats', { type: 'group', title: 'Old quotes', member_ids: [annId] });
    const post = (body) => restAs(bob.page, 'POST', `/chats/${group.id}/messages`, { type: 'text', ...body });
    const old = await post({ content: 'an old message' });
    // A page of newer messages (the chat opens with the newest 50): the quote is fetched by id.
    for (let n = 1; n <= 50; n++) await post({ content: `filler ${n}` });
    await post({ content: 'a late reply', reply_to_id: old.id });
    const quote = message(ann.page, 'a late reply').getByTestId('reply-quote');
    try {
      await ann.page.goto(`/chats/${group.id}`);
      await quote.filter({ hasText: 'an old message' }).waitFor();
      await restAs(bob.page, 'PUT', `/messages/${old.id}`, { content: 'an old message, edited' });
      await quote.filter({ hasText: 'an old message, edited' }).waitFor();
      await restAs(bob.page, 'DELETE', `/messages/${old.id}`);
      await quote.filter({ hasText: 'Message deleted' }).waitFor();
    } finally {
      await ann.page.goto(users.chatPath);
      await message(ann.page, 'Hi Ann').waitFor();
    }
  });

  test('the message actions menu takes the focus, moves it with the arrows, and Escape closes it and gives it back', async () => {
    const { bob } = users;
    const focused = () => bob.page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.textContent);
    const more = message(bob.page, 'Hi Ann').getByRole('button', { name: 'Message actions' });
    await more.click();
    try {
      await bob.page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'menuitem', null, { timeout: 2_000 });
      assert.equal(await focused(), 'React 👍');
      await bob.page.keyboard.press('ArrowDown');
      assert.equal(await focused(), 'React ❤️');
      await bob.page.keyboard.press('ArrowUp');
      await bob.page.keyboard.press('ArrowUp');
      // Bob's own message: Reply, Edit, Delete are its last items.
      assert.equal(await focused(), 'Delete', 'from the first item up to the last');
      await bob.page.keyboard.press('Escape');
      await message(bob.page, 'Hi Ann').getByRole('menu').waitFor({ state: 'detached', timeout: 2_000 });
      assert.equal(await more.evaluate((button) => button === document.activeElement), true, 'focus is back on the ⋯ button');
      assert.equal(await more.getAttribute('aria-expanded'), 'false');
    } finally {
      if (await more.getAttribute('aria-expanded') === 'true') await more.click();
    }
  });

  test('renamed on another device, the user sees the new name in the chat list header, also after a reload', async () => {
    const { ann } = users;
    await ann.page.goto('/');
    const header = ann.page.locator('header .me');
    await header.filter({ hasText: /^Ann$/ }).waitFor();
    const token = await ann.page.evaluate(() => JSON.parse(localStorage.getItem('confab.session')).token);
    const rename = async (name) => {
      const response = await fetch(`${server.baseUrl}/api/v1/users/me`, {
        method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ display_name: name }),
      });
      assert.equal(response.status, 200);
    };
    try {
      await rename('Ann Renamed');
      await header.filter({ hasText: 'Ann Renamed' }).waitFor();
      await ann.page.reload();
      await header.filter({ hasText: 'Ann Renamed' }).waitFor();
      // Renamed back while no page of hers is open: learnt when the next page's connection opens.
      await ann.page.goto('about:blank');
      await rename('Ann');
      await ann.page.goto('/');
      await header.filter({ hasText: /^Ann$/ }).waitFor();
    } finally {
      await rename('Ann');
      await ann.page.goto(users.chatPath);
      await message(ann.page, 'Hi Ann').waitFor();
    }
  });

  test('an image upload shows its thumbnail and opens in the preview', async () => {
    const { ann, bob } = users;
    await ann.page.getByLabel('Attach a photo, video or file').setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: png(320, 200, [240, 120, 40]) });
    await ann.page.getByTestId('thumbnail').first().waitFor();
    const thumbnail = bob.page.getByTestId('thumbnail').first();
    await thumbnail.waitFor();
    assert.ok(await thumbnail.evaluate((img) => img.complete && img.naturalWidth > 0), 'the thumbnail decoded');
    await bob.page.getByRole('button', { name: 'Open image' }).first().click();
    const preview = bob.page.getByTestId('preview-image');
    await preview.waitFor();
    await bob.page.waitForFunction(() => {
      const img = document.querySelector('[data-testid=preview-image]');
      return img && img.complete && img.naturalWidth === 320;
    });
    const sunsetId = new URL(bob.page.url()).pathname.split('/').pop();
    await bob.page.getByRole('button', { name: 'Zoom in' }).click();
    await bob.page.getByRole('button', { name: 'Zoom out' }).waitFor();
    await shoot(bob.page, 'media-preview');
    await bob.page.getByRole('link', { name: 'Back to the chat' }).click();
    await bob.page.getByTestId('message-list').waitFor();

    // The chat's gallery shows it too, and opens the same preview.
    await bob.page.getByRole('link', { name: 'Media', exact: true }).click();
    const inGallery = bob.page.getByTestId('gallery').getByTestId('thumbnail');
    await inGallery.waitFor();
    assert.equal(await inGallery.count(), 1);
    await shoot(bob.page, 'gallery');
    await bob.page.getByTestId('gallery').getByRole('button', { name: 'Open image' }).click();
    await bob.page.getByTestId('preview-image').waitFor();
    await bob.page.getByRole('link', { name: 'Back to the chat' }).click();
    await bob.page.getByTestId('message-list').waitFor();

    // A preview of a message that is not there says so instead of loading for ever.
    try {
      await bob.page.goto(`${users.chatPath}/media/${crypto.randomUUID()}`);
      await bob.page.getByTestId('media-missing').filter({ hasText: 'Media not found' }).waitFor();
      assert.equal(await bob.page.getByText('Loading…').count(), 0);
      // Nor is a message of another chat under a chat's address.
      await bob.page.goto(`/chats/${crypto.randomUUID()}/media/${sunsetId}`);
      await bob.page.getByTestId('media-missing').filter({ hasText: 'Media not found' }).waitFor();
      assert.equal(await bob.page.getByTestId('preview-image').count(), 0);
    } finally {
      await bob.page.goto(users.chatPath);
      await bob.page.getByTestId('message-list').waitFor();
    }

    // Deleted for everyone while its preview is open: not found at once, its bytes dropped (the
    // blob: URL revoked), and still not found when the address is opened again in the tab.
    // First its thumbnail fails to load for Bob (the network gone for it): it loads once he is back online.
    let thumbnailRefused;
    const refusedOnce = new Promise((resolve) => { thumbnailRefused = resolve; });
    const thumbnails = (url) => url.searchParams.get('variant') === 'thumb';
    await bob.page.route(thumbnails, (route) => { thumbnailRefused(); return route.abort('internetdisconnected'); });
    await ann.page.getByLabel('Attach a photo, video or file').setInputFiles({ name: 'to-delete.png', mimeType: 'image/png', buffer: png(80, 60, [20, 200, 90]) });
    const imageId = await newestMediaId(bob.page, 'to-delete.png');
    await refusedOnce;
    await bob.page.unroute(thumbnails);
    const loading = bob.page.getByText('Loading image…');
    await loading.waitFor();
    await bob.context.setOffline(true);
    await bob.page.getByTestId('offline-banner').waitFor();
    await bob.context.setOffline(false);
    await loading.waitFor({ state: 'detached' });
    const missing = bob.page.getByTestId('media-missing').filter({ hasText: 'Media not found' });
    await openInApp(bob.page, `${users.chatPath}/media/${imageId}`);
    await bob.page.waitForFunction(() => document.querySelector('[data-testid=preview-image]')?.naturalWidth === 80);
    const shownUrl = await bob.page.getByTestId('preview-image').getAttribute('src');
    await restAs(ann.page, 'DELETE', `/messages/${imageId}`);
    await missing.waitFor();
    assert.equal(await bob.page.getByTestId('preview-image').count(), 0);
    // Revoked: it no longer loads as an image (fetch cannot tell: the page's CSP refuses it blob: URLs).
    await untilInPage(bob.page, (url) => new Promise((resolve) => {
      const image = new Image();
      image.onload = () => resolve(false);
      image.onerror = () => resolve(true);
      image.src = url;
    }), shownUrl);
    await bob.page.evaluate(() => history.back());
    await bob.page.getByTestId('message-list').waitFor();
    await bob.page.evaluate(() => history.forward());
    await missing.waitFor();
    assert.equal(await bob.page.getByTestId('preview-image').count(), 0);
    await bob.page.evaluate(() => history.back());
    await bob.page.getByTestId('message-list').waitFor();
  });

  test('a file sent by one downloads for the other under its name', async () => {
    const { ann, bob } = users;
    await ann.page.getByLabel('Attach a photo, video or file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Bring snacks.\n') });
    const file = bob.page.getByTestId('file').filter({ hasText: 'notes.txt' });
    await file.waitFor();
    const [download] = await Promise.all([bob.page.waitForEvent('download'), file.click()]);
    assert.equal(download.suggestedFilename(), 'notes.txt');
    const saved = path.join(artifacts, 'downloaded-notes.txt');
    await download.saveAs(saved);
    assert.equal(readFileSync(saved, 'utf8'), 'Bring snacks.\n');
    // Its preview address offers the download, not a broken image.
    const fileId = await newestMediaId(bob.page, 'notes.txt');
    try {
      await bob.page.goto(`${users.chatPath}/media/${fileId}`);
      await bob.page.getByTestId('media-preview').getByTestId('file').filter({ hasText: 'notes.txt' }).waitFor();
      assert.equal(await bob.page.getByTestId('preview-image').count(), 0);
    } finally {
      await bob.page.goto(users.chatPath);
      await bob.page.getByTestId('message-list').waitFor();
    }
  });

  test('an upload made offline waits for the connection and then goes; a refused one says why in words', async () => {
    const { ann, bob } = users;
    const status = ann.page.locator('.upload-status');
    await ann.context.setOffline(true);
    try {
      await ann.page.getByTestId('offline-banner').waitFor();
      await ann.page.getByLabel('Attach a photo, video or file').setInputFiles({ name: 'later.txt', mimeType: 'text/plain', buffer: Buffer.from('Sent once back online.\n') });
      // Before, it was tried at once and given up after 5 attempts (7.5 s at most): "Upload failed: POST /messages/upload failed: Failed to fetch".
      await status.filter({ hasText: 'Waiting for the connection to upload later.txt' }).waitFor();
    } finally {
      await ann.context.setOffline(false);
    }
    await bob.page.getByTestId('file').filter({ hasText: 'later.txt' }).waitFor();
    await status.waitFor({ state: 'detached' });

    // An executable is refused (415): the reason in words, not the request's.
    await ann.page.getByLabel('Attach a photo, video or file').setInputFiles({ name: 'tool', mimeType: 'application/octet-stream', buffer: readFileSync('/bin/true') });
    const refused = status.filter({ hasText: 'Upload of tool failed: This type of file cannot be sent.' });
    await refused.waitFor();
    await refused.getByRole('button', { name: 'Dismiss' }).click();
    await status.waitFor({ state: 'detached' });
  });

  test('a shared location shows for both', async () => {
    const { ann, bob } = users;
    await ann.page.getByRole('button', { name: 'Share location' }).click();
    await bob.page.getByTestId('location').filter({ hasText: '52.52000, 13.40500' }).waitFor();
    await ann.page.getByTestId('location').filter({ hasText: '52.52000, 13.40500' }).waitFor();
  });

  test('a voice note recorded with the fake microphone plays back for the other', async () => {
    const { ann, bob } = users;
    await ann.page.getByRole('button', { name: 'Record a voice note' }).click();
    // Stop is enabled once sound was captured.
    const stop = ann.page.getByRole('button', { name: 'Stop and send the voice note' });
    await ann.page.waitForFunction(() => document.querySelector('.recording')?.disabled === false);
    await stop.click();
    const voice = bob.page.getByTestId('voice');
    await voice.waitFor();
    // Its WebM/Opus from MediaRecorder has no duration in its header: the player finds it
    // (AudioPlayer's seek past the end) and is back at the start before anyone plays it.
    await bob.page.waitForFunction(() => {
      const audio = document.querySelector('[data-testid=voice]');
      return audio.readyState >= 1 && Number.isFinite(audio.duration) && audio.duration > 0 && !audio.seeking;
    });
    const [duration, position] = await voice.evaluate((audio) => [audio.duration, audio.currentTime]);
    assert.ok(duration < 30, `duration ${duration} s`);
    assert.equal(position, 0);
    await voice.evaluate((audio) => audio.play());
    await bob.page.waitForFunction(() => document.querySelector('[data-testid=voice]')?.currentTime > 0);
  });

  test('a video recorded in Chromium is sent from the attach button and plays for the other', async () => {
    const { ann, bob } = users;
    const clip = Buffer.from(await recordClip(ann.page), 'base64');
    await ann.page.getByLabel('Attach a photo, video or file').setInputFiles({ name: 'clip.webm', mimeType: 'video/webm', buffer: clip });

    // In the chat: Play fetches it and starts it in the bubble.
    await bob.page.getByRole('button', { name: 'Play video clip.webm' }).click();
    await assertPlays(bob.page, 'video', { autoPlayed: true });
    await shoot(bob.page, 'video-in-chat');

    // Full size, in the preview page: played from the controls' side (play()).
    await bob.page.getByRole('button', { name: 'Open video clip.webm full size' }).click();
    await assertPlays(bob.page, 'preview-video', { autoPlayed: false });
    await bob.page.getByRole('link', { name: 'Back to the chat' }).click();
    await bob.page.getByTestId('message-list').waitFor();
  });

  test('a live photo: a still and a short video picked together, shown with a LIVE badge, its motion plays in the chat and in the preview', async () => {
    const { ann, bob } = users;
    const clip = readFileSync(path.join(here, '..', '..', '..', 'tests', 'fixtures', 'media', 'clip.webm'));
    await ann.page.getByLabel('Attach a photo, video or file').setInputFiles([
      { name: 'live.png', mimeType: 'image/png', buffer: png(64, 48, [40, 160, 220]) },
      { name: 'live.webm', mimeType: 'video/webm', buffer: clip },
    ]);
    const live = bob.page.getByTestId('live-photo').last();
    await live.getByRole('button', { name: 'Play the live photo' }).waitFor();
    await live.getByTestId('thumbnail').waitFor();
    assert.equal(await live.getAttribute('data-state'), 'still');
    await shoot(bob.page, 'live-photo');

    // Hovering plays the motion (fetched with ?part=video) muted over the still, then the still is back.
    const plays = async (page, wrapper, testId) => {
      await page.waitForFunction((s) => {
        const video = document.querySelector(s);
        return video && video.muted && (video.currentTime > 0 || video.ended);
      }, `[data-testid=${testId}]`);
      await page.locator(`[data-testid=${testId}]`).waitFor({ state: 'detached' });
      assert.equal(await wrapper.getAttribute('data-state'), 'still');
    };
    await live.getByTestId('thumbnail').hover();
    await plays(bob.page, live, 'live-photo-video');
    await bob.page.mouse.move(0, 0);
    // The badge plays it again (the keyboard's way).
    await live.getByRole('button', { name: 'Play the live photo' }).press('Enter');
    await plays(bob.page, live, 'live-photo-video');

    // On a touch screen (Bob's session on a phone) a tap plays it rather than opening the preview.
    const chatPath = new URL(bob.page.url()).pathname;
    const session = await bob.page.evaluate(() => localStorage.getItem('confab.session'));
    const touchContext = await browser.newContext({ viewport: phone, baseURL: server.baseUrl, hasTouch: true, isMobile: true });
    await touchContext.addInitScript((saved) => localStorage.setItem('confab.session', saved), session);
    const touch = await touchContext.newPage();
    touch.setDefaultTimeout(timeout);
    await touch.goto(chatPath);
    const tapped = touch.getByTestId('live-photo').last();
    await tapped.getByTestId('thumbnail').tap();
    await plays(touch, tapped, 'live-photo-video');
    assert.equal(new URL(touch.url()).pathname, chatPath, 'the tap did not open the preview');
    await touchContext.close();

    // Full size: the preview shows the still, and plays the motion from its badge.
    await live.getByRole('button', { name: 'Open image' }).click();
    const preview = bob.page.getByTestId('preview-live');
    await preview.getByTestId('preview-image').waitFor();
    await preview.getByRole('button', { name: 'Play the live photo' }).click();
    await plays(bob.page, preview, 'preview-live-video');
    await bob.page.getByRole('link', { name: 'Back to the chat' }).click();
    await bob.page.getByTestId('message-list').waitFor();
  });

  test('a group: created, renamed and its member removed, each seen live by the other', async () => {
    const { ann, bob } = users;
    await ann.page.goto('/');
    await bob.page.goto('/');
    await ann.page.getByRole('button', { name: 'New group' }).click();
    await ann.page.getByPlaceholder('Group title').fill('Weekend');
    await ann.page.getByPlaceholder('Usernames to add').fill(bob.username);
    await ann.page.getByRole('button', { name: 'Create group' }).click();
    await ann.page.getByRole('heading', { name: 'Weekend' }).waitFor();
    await bob.page.getByTestId('chat-row').filter({ hasText: 'Weekend' }).waitFor();

    await ann.page.getByRole('link', { name: 'Settings' }).click();
    await ann.page.getByTestId('member').nth(1).waitFor();
    assert.deepEqual(await ann.page.getByTestId('member').locator('.role').allTextContents(), ['owner', 'member']);
    await ann.page.getByRole('textbox', { name: 'Title' }).fill('Weekend trip');
    await ann.page.getByRole('button', { name: 'Save title' }).click();
    await bob.page.getByTestId('chat-row').filter({ hasText: 'Weekend trip' }).waitFor();
    await shoot(ann.page, 'group-settings');
    // Bob has the group open: another member's message names its sender.
    const groupPath = new URL(ann.page.url()).pathname.replace(/\/settings$/, '');
    users.groupPath = groupPath;
    await bob.page.getByTestId('chat-row').filter({ hasText: 'Weekend trip' }).click();
    await bob.page.getByRole('heading', { name: 'Weekend trip' }).waitFor();
    await ann.page.goto(groupPath);
    await send(ann.page, 'Group hello');
    await message(bob.page, 'Group hello').getByTestId('sender').filter({ hasText: 'Ann' }).waitFor();
    // A long unbroken name wraps inside its bubble.
    assert.equal(await message(bob.page, 'Group hello').evaluate((bubble) => getComputedStyle(bubble.querySelector('[data-testid=sender]')).overflowWrap), 'anywhere');
    assert.equal(await message(ann.page, 'Group hello').getByTestId('sender').count(), 0, 'no name on your own messages');
    await send(bob.page, 'Bob was here');
    await message(ann.page, 'Bob was here').getByTestId('sender').filter({ hasText: 'Bob' }).waitFor();
    await ann.page.getByRole('link', { name: 'Settings' }).click();

    // Removed while looking at it: Bob is told and cannot write; opened again, it is not found.
    await ann.page.getByRole('button', { name: 'Remove Bob' }).click();
    await ann.page.getByTestId('member').nth(1).waitFor({ state: 'detached' });
    await bob.page.getByTestId('chat-gone').filter({ hasText: 'no longer a member' }).waitFor();
    assert.equal(await bob.page.getByLabel('Message', { exact: true }).isDisabled(), true);
    await bob.page.reload();
    await bob.page.getByTestId('chat-gone').filter({ hasText: 'Chat not found' }).waitFor();
    assert.equal(await bob.page.getByLabel('Message', { exact: true }).isDisabled(), true);
    await bob.page.goto('/');
    await bob.page.getByRole('heading', { name: 'Chats' }).waitFor();
    await bob.page.getByTestId('chat-row').filter({ hasText: 'Weekend trip' }).waitFor({ state: 'detached' });
    // A former member's messages still name them (their profile, as they are no longer among the members).
    await ann.page.goto(groupPath);
    await message(ann.page, 'Bob was here').getByTestId('sender').filter({ hasText: 'Bob' }).waitFor();
    assert.equal(await ann.page.getByTestId('sender').filter({ hasText: 'Someone' }).count(), 0);

    await ann.page.goto(users.chatPath);
    await bob.page.goto(users.chatPath);
    await message(ann.page, 'Hi Ann').waitFor();
    await message(bob.page, 'Hi Ann').waitFor();
    // Every chat opened so far (a direct chat, a group the two were in from its creation) asked
    // no GET /chats/{id}/call, whose "no call" 404 Chromium logs as an error.
    for (const user of [ann, bob]) assert.deepEqual(user.errors.filter((e) => e.includes('/call')), []);
  });

  test('a chat address whose id is none (the server answers 400) shows the chat not found, and nothing can be written', async () => {
    const { bob } = users;
    try {
      await bob.page.goto('/chats/not-a-uuid');
      await bob.page.getByTestId('chat-gone').filter({ hasText: 'Chat not found' }).waitFor();
      assert.equal(await bob.page.getByLabel('Message', { exact: true }).isDisabled(), true);
      // The settings and the gallery of a chat that is not Bob's (he was removed from the group) say so;
      // a direct chat has no group settings. None offers to leave.
      const leave = bob.page.getByRole('button', { name: 'Leave group' });
      for (const [address, notice] of [[`${users.groupPath}/settings`, 'Chat not found'], [`${users.chatPath}/settings`, 'A direct chat has no group settings']]) {
        await bob.page.goto(address);
        await bob.page.getByTestId('settings-missing').filter({ hasText: notice }).waitFor();
        assert.equal(await leave.count(), 0, address);
      }
      await bob.page.goto(`${users.groupPath}/gallery`);
      await bob.page.getByRole('alert').filter({ hasText: 'Chat not found' }).waitFor();
    } finally {
      await bob.page.goto(users.chatPath);
      await message(bob.page, 'Hi Ann').waitFor();
    }
  });

  test('the other member\'s presence is not claimed while the app is offline', async () => {
    const { ann } = users;
    const presence = ann.page.getByTestId('chat-status');
    await presence.filter({ hasText: /^online$/ }).waitFor();
    await ann.context.setOffline(true);
    try {
      await ann.page.getByTestId('offline-banner').waitFor();
      assert.equal(await presence.textContent(), '', 'Bob\'s presence is unknown while Ann is offline');
    } finally {
      await ann.context.setOffline(false);
    }
    await ann.page.getByTestId('offline-banner').waitFor({ state: 'detached' });
    await presence.filter({ hasText: /^online$/ }).waitFor();
  });

  test('sends made offline are shown pending, then delivered once each, in order', async () => {
    const { ann, bob } = users;
    await ann.context.setOffline(true);
    await ann.page.getByTestId('offline-banner').waitFor();
    for (const text of ['offline one', 'offline two', 'offline three']) await send(ann.page, text);
    await ann.page.locator('[data-testid=outgoing][data-status=pending]').nth(2).waitFor();
    await shoot(ann.page, 'offline');
    await ann.context.setOffline(false);
    await ann.page.getByTestId('offline-banner').waitFor({ state: 'detached' });
    await message(bob.page, 'offline three').waitFor();
    await ann.page.locator('[data-testid=outgoing]').first().waitFor({ state: 'detached' });

    const token = await ann.page.evaluate(() => JSON.parse(localStorage.getItem('confab.session')).token);
    const chatId = users.chatPath.split('/').pop();
    const response = await fetch(`${server.baseUrl}/api/v1/chats/${chatId}/messages?limit=100`, { headers: { authorization: `Bearer ${token}` } });
    const history = (await response.json()).messages.sort((a, b) => a.seq - b.seq);
    const contents = history.map((m) => m.content).filter((c) => c.startsWith('offline'));
    assert.deepEqual(contents, ['offline one', 'offline two', 'offline three']);
    const shown = await bob.page.locator('[data-testid=content]').allTextContents();
    assert.deepEqual(shown.filter((c) => c.startsWith('offline')), ['offline one', 'offline two', 'offline three']);
  });

  test('a reload shows the cached history before the server answers', async () => {
    const { ann } = users;
    await ann.page.route('**/api/v1/**', (route) => route.abort());
    await ann.page.reload();
    await message(ann.page, 'offline three').waitFor();
    await ann.page.screenshot({ path: path.join(artifacts, 'reload-cached.png') });
    await message(ann.page, 'Hello Bob, edited').waitFor();
    await ann.page.unroute('**/api/v1/**');
    for (const user of [users.ann, users.bob]) assert.deepEqual(user.errors.filter((e) => e.includes('Content Security Policy')), []);
  });

  test('the server restarts during the conversation: both reconnect and miss nothing', async () => {
    const { ann, bob } = users;
    await bob.page.goto(users.chatPath);
    await message(bob.page, 'offline three').waitFor();
    await server.stop();
    await ann.page.getByTestId('offline-banner').waitFor();
    await server.start();
    await ann.page.getByTestId('offline-banner').waitFor({ state: 'detached' });
    await send(bob.page, 'after the restart');
    await message(ann.page, 'after the restart').waitFor();
    await send(ann.page, 'welcome back');
    await message(bob.page, 'welcome back').waitFor();
  });

  test('edits, reactions and deletions made offline are kept pending, across an offline reload too, and done once back; a refused one can be discarded', async () => {
    const { ann, bob } = users;
    await ann.page.evaluate(() => navigator.serviceWorker.ready);
    await ann.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    const texts = ['keep edit', 'keep react', 'keep delete', 'edit refused'];
    for (const text of texts) await send(ann.page, text);
    for (const text of texts) await message(bob.page, text).waitFor();
    const token = await ann.page.evaluate(() => JSON.parse(localStorage.getItem('confab.session')).token);
    const chatId = users.chatPath.split('/').pop();
    const history = async () => (await (await fetch(`${server.baseUrl}/api/v1/chats/${chatId}/messages?limit=20`, { headers: { authorization: `Bearer ${token}` } })).json()).messages;
    const refusedId = (await history()).find((m) => m.content === 'edit refused').id;

    await ann.context.setOffline(true);
    await ann.page.getByTestId('offline-banner').waitFor();
    await act(ann.page, 'keep edit', 'Edit');
    await ann.page.getByLabel('Message', { exact: true }).fill('kept edit, made offline');
    await ann.page.getByLabel('Message', { exact: true }).press('Enter');
    await act(ann.page, 'keep react', 'React 👍');
    await act(ann.page, 'keep delete', 'Delete');
    await act(ann.page, 'edit refused', 'Edit');
    await ann.page.getByLabel('Message', { exact: true }).fill('never saved');
    await ann.page.getByLabel('Message', { exact: true }).press('Enter');
    await message(ann.page, 'kept edit, made offline').getByTestId('action-pending').waitFor();
    await message(ann.page, 'keep react').getByTestId('reaction').filter({ hasText: '👍 1' }).waitFor();
    await ann.page.getByTestId('action-pending').nth(3).waitFor();
    // Meanwhile another device of Ann's deletes the message she edited: that edit will be refused.
    const deleted = await fetch(`${server.baseUrl}/api/v1/messages/${refusedId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(deleted.status, 204);

    // Longer than any retry: the page is reloaded while offline; what waits is kept and shown.
    await ann.page.reload();
    await ann.page.getByTestId('offline-banner').waitFor();
    await message(ann.page, 'kept edit, made offline').getByTestId('action-pending').waitFor();
    await ann.page.getByTestId('action-pending').nth(3).waitFor();
    await shoot(ann.page, 'offline-actions');
    assert.equal(await message(bob.page, 'keep edit').count(), 1, 'nothing reached the server while offline');

    await ann.context.setOffline(false);
    await ann.page.getByTestId('offline-banner').waitFor({ state: 'detached' });
    await message(bob.page, 'kept edit, made offline').getByTestId('edited').waitFor();
    await message(bob.page, 'keep react').getByTestId('reaction').filter({ hasText: '👍 1' }).waitFor();
    await message(bob.page, 'keep delete').waitFor({ state: 'detached' });
    // The refused edit: shown with its reason until Ann discards it.
    const failed = ann.page.getByTestId('action-failed');
    await failed.filter({ hasText: 'Edit failed' }).waitFor();
    await shoot(ann.page, 'action-refused');
    await ann.page.getByTestId('action-pending').first().waitFor({ state: 'detached' });
    await failed.getByRole('button', { name: 'Discard' }).click();
    await failed.waitFor({ state: 'detached' });
    const stored = await history();
    const contentOf = (id) => stored.find((m) => m.id === id);
    const byText = (text) => stored.find((m) => m.content === text);
    assert.ok(byText('kept edit, made offline')?.is_edited);
    assert.deepEqual(byText('keep react')?.reactions.map((r) => [r.emoji, r.count]), [['👍', 1]]);
    assert.equal(byText('keep delete'), undefined);
    assert.equal(contentOf(refusedId).is_deleted, true);
    const kept = await ann.page.evaluate(() => localStorage.getItem(`confab.actions.${JSON.parse(localStorage.getItem('confab.session')).user.id}`));
    assert.deepEqual(JSON.parse(kept), {}, 'nothing left in storage');
  });

  test('a send made while an offline start still opens the chat is shown and kept at once, and survives a reload', async () => {
    const { ann, bob } = users;
    await ann.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    const text = 'typed while the chat was opening';
    const outbox = () => ann.page.evaluate(() => localStorage.getItem(`confab.outbox.${JSON.parse(localStorage.getItem('confab.session')).user.id}`));
    // Offline, and the history page held unanswered (a hung server): the chat opens from the
    // cache while its page request waits out REST's retries (up to 5 x 15 s).
    const history = '**/api/v1/chats/*/messages?*';
    let held = 0;
    await ann.page.route(history, () => { held++; });
    await ann.context.setOffline(true);
    const pending = ann.page.locator('[data-testid=outgoing][data-status=pending]').filter({ hasText: text });
    try {
      await ann.page.reload();
      await ann.page.getByTestId('offline-banner').waitFor();
      await message(ann.page, 'kept edit, made offline').waitFor();
      await send(ann.page, text);
      // At once: before, the send waited behind the chat's opening and was neither shown nor stored.
      await pending.waitFor({ timeout: 1_500 });
      assert.ok(held > 0, 'the history page was held');
      assert.match(await outbox(), new RegExp(text));
      await ann.page.reload();
      await pending.waitFor();
    } finally {
      await ann.page.unroute(history);
      await ann.context.setOffline(false);
    }
    await message(bob.page, text).waitFor();
    // Pending, then sending, then the message in its place: never shown as neither.
    await ann.page.getByTestId('outgoing').filter({ hasText: text }).waitFor({ state: 'detached' });
    assert.equal(await message(ann.page, text).count(), 1);
    assert.deepEqual(JSON.parse(await outbox()), {});
  });

  test('messages that arrive while the tab is in the background are marked read when it is seen again', async () => {
    const { ann, bob } = users;
    // Headless Chromium keeps every tab visible: the page is told it went to the background the way a browser tells it.
    const setHidden = (page, hidden) => page.evaluate((isHidden) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (isHidden ? 'hidden' : 'visible') });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => isHidden });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
    await setHidden(ann.page, true);
    await send(bob.page, 'while you were away');
    await message(ann.page, 'while you were away').waitFor();
    const tick = message(bob.page, 'while you were away').getByTestId('tick');
    await tick.waitFor();
    assert.equal(await tick.getAttribute('data-state'), 'sent', 'not read while the tab is hidden');
    await setHidden(ann.page, false);
    await message(bob.page, 'while you were away').locator('[data-testid=tick][data-state=read]').waitFor();
  });

  test('an offline start with the server stopped shows the cache, thumbnail included, then syncs what it missed', async () => {
    const { ann, bob } = users;
    // The service worker keeps the app shell once it controls the page.
    await ann.page.evaluate(() => navigator.serviceWorker.ready);
    await ann.page.waitForFunction(() => navigator.serviceWorker.controller !== null);
    await ann.page.goto(users.chatPath);
    await ann.page.getByTestId('thumbnail').first().waitFor();

    await server.stop();
    // Nothing of the app may come from the HTTP cache: only the service worker's copy counts
    // (the page's module scripts are requested with Origin, the kept copies were stored without).
    const devtools = await ann.context.newCDPSession(ann.page);
    await devtools.send('Network.clearBrowserCache');
    await devtools.detach();
    const thumbnailRequests = [];
    const onRequest = (request) => { if (request.url().includes('variant=thumb')) thumbnailRequests.push(request.url()); };
    ann.page.on('request', onRequest);
    await ann.page.reload();
    await ann.page.getByTestId('offline-banner').waitFor();
    await ann.page.getByRole('heading', { name: 'Bob' }).waitFor();
    await message(ann.page, 'welcome back').waitFor();
    await message(ann.page, 'kept edit, made offline').waitFor({ state: 'attached' });
    const thumbnail = ann.page.getByTestId('thumbnail').first();
    await thumbnail.waitFor();
    await ann.page.waitForFunction(() => {
      const img = document.querySelector('[data-testid=thumbnail]');
      return img && img.complete && img.naturalWidth > 0;
    });
    ann.page.off('request', onRequest);
    assert.deepEqual(thumbnailRequests, [], 'the thumbnail came from the cache');
    await shoot(ann.page, 'offline-start');

    // A new tab opened while the server is still down loads the app, its icon included.
    const tab = await ann.context.newPage();
    tab.setDefaultTimeout(timeout);
    await tab.goto('/');
    await tab.getByRole('heading', { name: 'Chats' }).waitFor();
    await tab.getByTestId('offline-banner').waitFor();
    await tab.getByRole('link', { name: /^Bob/ }).waitFor();
    assert.equal(await tab.evaluate(async () => (await fetch('/favicon.svg')).status), 200);
    await tab.close();

    // The server comes back while Ann is still away; Bob sends; Ann's return syncs it.
    await ann.context.setOffline(true);
    await server.start();
    // Bob's client has been knocking on the stopped server all along: its next attempt may be
    // up to the back-off's cap (30 s, with full jitter) away.
    await bob.page.getByTestId('offline-banner').waitFor({ state: 'detached', timeout: 45_000 });
    await send(bob.page, 'sent while Ann was away');
    await message(bob.page, 'sent while Ann was away').waitFor();
    await ann.context.setOffline(false);
    await ann.page.getByTestId('offline-banner').waitFor({ state: 'detached' });
    await message(ann.page, 'sent while Ann was away').waitFor();
  });

  test('a token revoked elsewhere, or expired before a reload, returns to the sign-in screen and forgets the session', async () => {
    const eve = await new RestClient({ baseUrl: server.baseUrl }).register({ username: `eve_${suffix}`, password: 'correct horse battery' });
    const context = await browser.newContext({ viewport: phone, baseURL: server.baseUrl });
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    const signIn = page.getByRole('form', { name: 'Sign in' });
    const savedSession = () => page.evaluate(() => localStorage.getItem('confab.session'));
    /** A reload with Eve's sign-in saved, as after an earlier visit. */
    const reloadSignedIn = async () => {
      await page.evaluate((signedIn) => localStorage.setItem('confab.session', signedIn), JSON.stringify(eve));
      await page.reload();
    };
    await page.goto('/');
    await reloadSignedIn();
    await page.getByRole('heading', { name: 'Chats' }).waitFor();
    await page.getByTestId('offline-banner').waitFor({ state: 'detached' });

    // Signed out on another device: the server closes this page's socket with 4001.
    await new RestClient({ baseUrl: server.baseUrl, token: eve.token }).logout();
    await signIn.waitFor();
    assert.equal(await savedSession(), null);

    // A saved session whose token no longer works: its upgrade is refused with 401, its REST calls too.
    await reloadSignedIn();
    await signIn.waitFor();
    assert.equal(await savedSession(), null);
    await context.close();
  });

  test('signing out offline revokes the token once back online', async () => {
    const frank = await new RestClient({ baseUrl: server.baseUrl }).register({ username: `frank_${suffix}`, password: 'correct horse battery' });
    const context = await browser.newContext({ viewport: phone, baseURL: server.baseUrl });
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    const me = () => fetch(`${server.baseUrl}/api/v1/users/me`, { headers: { authorization: `Bearer ${frank.token}` } });
    try {
      await page.goto('/');
      await page.evaluate((signedIn) => localStorage.setItem('confab.session', signedIn), JSON.stringify(frank));
      await page.reload();
      await page.getByRole('heading', { name: 'Chats' }).waitFor();
      await page.getByTestId('offline-banner').waitFor({ state: 'detached' });
      await context.setOffline(true);
      await page.getByTestId('offline-banner').waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('form', { name: 'Sign in' }).waitFor();
      // Before, the failed logout was dropped: the token stayed valid for good.
      assert.equal((await me()).status, 200, 'the server was not told yet');
      assert.deepEqual(JSON.parse(await page.evaluate(() => localStorage.getItem('confab.logouts'))), [frank.token]);
      await context.setOffline(false);
      await page.waitForFunction(() => localStorage.getItem('confab.logouts') === '[]');
      assert.equal((await me()).status, 401, 'revoked once back online');
      // Signing in from a chat's address opens that chat (before, the chat list).
      const address = `/chats/${crypto.randomUUID()}`;
      await page.goto(address);
      await page.getByLabel('Username').fill(`frank_${suffix}`);
      await page.getByLabel('Password').fill('correct horse battery');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByTestId('chat-gone').filter({ hasText: 'Chat not found' }).waitFor();
      assert.equal(new URL(page.url()).pathname, address);
    } finally {
      await context.close();
    }
  });

  test('a chat of 10,000 messages opens at once and renders only the visible rows', async () => {
    const rest = new RestClient({ baseUrl: server.baseUrl });
    const cara = await rest.register({ username: `cara_${suffix}`, password: 'correct horse battery' });
    const dan = await rest.register({ username: `dan_${suffix}`, password: 'correct horse battery' });
    const authed = new RestClient({ baseUrl: server.baseUrl, token: cara.token });
    const chat = await authed.createChat({ type: 'direct', member_ids: [dan.user.id] });

    // 10,000 sends over one WebSocket, 16 in flight (the server's per-connection window).
    const connection = new Connection({ url: authed.webSocketUrl, token: cara.token, webSocketFactory: nodeWebSocketFactory, requestTimeoutMs: 60_000 });
    const online = new Promise((resolve) => connection.onState((state) => state === 'online' && resolve()));
    connection.start();
    await online;
    const total = 10_000;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const n = ++next;
        await connection.request('message.send', { chat_id: chat.id, type: 'text', content: `message ${n}`, client_id: `bulk-${n}` });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    connection.stop();

    const context = await browser.newContext({ viewport: phone, baseURL: server.baseUrl });
    await context.addInitScript((signedIn) => localStorage.setItem('confab.session', signedIn), JSON.stringify(cara));
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    const started = Date.now();
    await page.goto(`/chats/${chat.id}`);
    await message(page, `message ${total}`).waitFor();
    const openMs = Date.now() - started;
    const rowsShown = await page.locator('[data-row]').count();
    assert.ok(rowsShown < 40, `${rowsShown} rows in the DOM`);

    // Scrolling back loads older pages; the DOM keeps only the rows near the viewport.
    const list = page.getByTestId('message-list');
    for (let pages = 1; pages <= 4; pages++) {
      await list.evaluate((element) => { element.scrollTop = 0; element.dispatchEvent(new Event('scroll')); });
      await message(page, `message ${total - 50 * pages}`).waitFor({ state: 'attached' });
    }
    const rowsAfterScroll = await page.locator('[data-row]').count();
    assert.ok(rowsAfterScroll < 60, `${rowsAfterScroll} rows in the DOM after loading older pages`);
    await shoot(page, 'long-chat');

    await mkdir(artifacts, { recursive: true });
    const bundle = JSON.parse(await (await fetch(`${server.baseUrl}/bundle-size.json`)).text());
    await writeFile(path.join(artifacts, 'performance.json'), JSON.stringify({
      messages: total, open_ms: openMs, rows_in_dom: rowsShown, rows_in_dom_after_scroll: rowsAfterScroll,
      first_load_js_gzip_bytes: bundle.first_load_js_gzip_bytes,
    }, null, 2) + '\n');
    await context.close();
  });
});

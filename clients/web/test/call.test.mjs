// A real video call in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// between two users of the web client, through Confab's signalling and Debian's coturn: ICE is
// restricted to relay candidates (the client's ?ice=relay), so the media provably flows through
// the TURN server. Chromium's fake camera, microphone and screen capture feed the call. Every
// wait is for an element or a condition (getStats polled against a deadline), never a fixed sleep.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { RestClient } from '../../sdk/dist/src/index.js';
import { databaseConfigured, skipReason, TestDatabase, TestServer } from '../../sdk/dist/test/support/server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.join(here, '..', 'dist');
const artifacts = process.env.CONFAB_WEB_ARTIFACTS ?? path.join(here, '..', 'artifacts');
const timeout = 15_000;
// Frames of a mesh of three keep coming within this (four pages encode and decode video on two
// shared cores; 15 s was too short under load from other tests).
const framesTimeout = 45_000;
const ringTimeoutMs = 5_000;
const turnSecret = 'web-call-test-turn-secret';
// Below the kernel's ephemeral range (32768 and up), where another socket could hold it, and
// apart from the C++ calls suite's (20000-24999).
const turnPort = 25000 + Math.floor(Math.random() * 5000);

const turnInstalled = () => {
  try {
    execFileSync('sh', ['-c', 'command -v turnserver'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
// Like the C++ calls suite: without coturn (Debian's coturn package, which scripts/dev installs) it skips.
const skip = !databaseConfigured() ? skipReason : !turnInstalled() ? 'turnserver is not installed (Debian package coturn)' : false;

const until = async (what, check, deadlineMs = timeout) => {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

/** Debian's coturn on loopback with use-auth-secret, as scripts/dev run and the C++ calls suite start it. */
class Coturn {
  dir = mkdtempSync(path.join(tmpdir(), 'confab-web-coturn-'));

  async start() {
    const config = path.join(this.dir, 'turnserver.conf');
    writeFileSync(config, [
      'listening-ip=127.0.0.1', 'relay-ip=127.0.0.1', `listening-port=${turnPort}`, 'use-auth-secret',
      `static-auth-secret=${turnSecret}`, 'realm=confab.test', 'fingerprint', 'no-tls', 'no-dtls', 'no-cli',
      'allow-loopback-peers', `pidfile=${path.join(this.dir, 'turnserver.pid')}`, `log-file=${path.join(this.dir, 'turnserver.log')}`,
    ].join('\n') + '\n');
    this.child = spawn('turnserver', ['-c', config], { stdio: 'ignore' });
    await until('coturn to answer a STUN binding request', () => this.answersStun(), 10_000);
  }

  /** Whether a STUN binding request to the TURN port is answered within 200 ms. */
  answersStun() {
    return new Promise((resolve) => {
      const socket = createSocket('udp4');
      const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), randomBytes(12)]);
      const done = (answered) => { clearTimeout(timer); socket.close(); resolve(answered); };
      const timer = setTimeout(() => done(false), 200);
      socket.on('message', (reply) => done(reply.readUInt16BE(0) === 0x0101));
      socket.on('error', () => done(false));
      socket.send(request, turnPort, '127.0.0.1');
    });
  }

  async stop() {
    if (this.child && this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      process.kill(this.child.pid, 'SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// In the page: every RTCPeerConnection the client makes, and the stats of the live one; and the
// ids of the calls whose call.ended this page received.
function recordPeerConnections() {
  window.callsEnded = [];
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', ({ data }) => {
        const frame = typeof data === 'string' ? JSON.parse(data) : undefined;
        if (frame?.type === 'call.ended') window.callsEnded.push(frame.data.call.id);
      });
    }
  };
  const Native = window.RTCPeerConnection;
  const made = [];
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      made.push(this);
    }
  };
  window.callStats = async () => {
    const pc = made.filter((p) => p.connectionState !== 'closed').at(-1);
    if (!pc) return undefined;
    const stats = await pc.getStats();
    const inbound = [];
    let pair;
    stats.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') inbound.push({ track: s.trackIdentifier, frames: s.framesDecoded ?? 0 });
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
    });
    return {
      configuration: pc.getConfiguration().iceTransportPolicy,
      inbound,
      local: pair && stats.get(pair.localCandidateId)?.candidateType,
      remote: pair && stats.get(pair.remoteCandidateId)?.candidateType,
    };
  };
  window.connectionsMade = () => made.length;
  // The video frames decoded on each live connection (one per other participant of a group call).
  window.framesPerPeer = async () => Promise.all(made.filter((p) => p.connectionState !== 'closed').map(async (pc) => {
    let frames = 0;
    (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0; });
    return frames;
  }));
}

describe('a video call in Chromium through coturn', { skip }, () => {
  let database, server, browser, coturn, chatPath, groupPath;
  const users = {};

  const openDevice = async (signedIn, path) => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, baseURL: server.baseUrl, permissions: ['microphone', 'camera'] });
    await context.addInitScript((session) => localStorage.setItem('confab.session', session), JSON.stringify(signedIn));
    await context.addInitScript(recordPeerConnections);
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    await page.goto(`${path}?ice=relay`);
    return page;
  };

  /** The video frames this page decoded from `track` (the first inbound video when omitted). */
  const framesOf = async (page, track) => {
    const stats = await page.evaluate(() => window.callStats());
    const inbound = stats?.inbound.find((i) => track === undefined || i.track === track);
    return inbound?.frames ?? 0;
  };
  /** Frames arrive and keep arriving: more than 5, then more than that again. */
  const framesFlow = async (page, track, what) => {
    const first = await until(`${what}: frames decoded`, async () => { const n = await framesOf(page, track); return n > 5 && n; });
    await until(`${what}: more frames decoded`, async () => (await framesOf(page, track)) > first + 5);
  };
  /** Each page decodes video from both others, on a connection each, all through the relay. */
  const meshFlows = async (pages) => {
    for (const [page, who] of pages) {
      const first = await until(`${who} to decode video from both others`, async () => {
        const frames = await page.evaluate(() => window.framesPerPeer());
        return frames.length === 2 && frames.every((n) => n > 5) && frames;
      }, framesTimeout);
      await until(`${who}'s frames to keep coming`, async () => {
        const frames = await page.evaluate(() => window.framesPerPeer());
        return frames.length === 2 && frames.every((n, i) => n > first[i] + 5);
      }, framesTimeout);
      assert.equal(await page.getByTestId('remote-video').count(), 2, `${who} shows both others`);
    }
  };
  /** A system message (a centered notice, not a bubble) whose text is `text`. */
  const systemMessage = (page, text) => page.getByTestId('system-message').filter({ hasText: text });

  before(async () => {
    database = new TestDatabase();
    coturn = new Coturn();
    await coturn.start();
    server = new TestServer(database, {
      CONFAB_WEB_ROOT: dist,
      CONFAB_CALLS_TURN_URLS: `turn:127.0.0.1:${turnPort}?transport=udp`,
      CONFAB_CALLS_TURN_SECRET: turnSecret,
      CONFAB_CALLS_RING_TIMEOUT_MS: String(ringTimeoutMs),
    });
    await server.start();
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required'],
    });

    const rest = new RestClient({ baseUrl: server.baseUrl });
    const suffix = Math.random().toString(36).slice(2, 8);
    const ann = await rest.register({ username: `ann_${suffix}`, display_name: 'Ann', password: 'correct horse battery' });
    const bob = await rest.register({ username: `bob_${suffix}`, display_name: 'Bob', password: 'correct horse battery' });
    // Bob's second device: a session of its own, which rings too.
    const bobElsewhere = await rest.login({ username: `bob_${suffix}`, password: 'correct horse battery' });
    const cara = await rest.register({ username: `cara_${suffix}`, display_name: 'Cara', password: 'correct horse battery' });
    const annRest = new RestClient({ baseUrl: server.baseUrl, token: ann.token });
    const chat = await annRest.createChat({ type: 'direct', member_ids: [bob.user.id] });
    chatPath = `/chats/${chat.id}`;
    const group = await annRest.createChat({ type: 'group', title: 'Trio', member_ids: [bob.user.id, cara.user.id] });
    groupPath = `/chats/${group.id}`;
    users.caraSignedIn = cara;
    users.ann = await openDevice(ann, chatPath);
    users.bob = await openDevice(bob, chatPath);
    users.bobElsewhere = await openDevice(bobElsewhere, '/');
    for (const page of [users.ann, users.bob]) await page.getByRole('heading', { name: page === users.ann ? 'Bob' : 'Ann' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.dispose();
    await coturn?.stop();
    database?.drop();
  });

  test('A calls B, B answers on one device: video flows both ways through the TURN relay', async () => {
    const { ann, bob, bobElsewhere } = users;
    await ann.getByRole('button', { name: 'Start a video call' }).click();
    await ann.getByTestId('in-call').getByText('Calling…').waitFor();
    // Every device of Bob's rings; answering on one stops the other.
    await bobElsewhere.getByTestId('incoming-call').waitFor();
    await bob.getByTestId('incoming-call').getByText('Ann').waitFor();
    mkdirSync(artifacts, { recursive: true });
    await bob.screenshot({ path: path.join(artifacts, 'call-incoming-phone.png') });
    await bob.getByRole('button', { name: 'Answer' }).click();
    await bobElsewhere.getByTestId('incoming-call').waitFor({ state: 'detached' });
    assert.equal(await bobElsewhere.getByTestId('in-call').count(), 0, 'the other device is not in the call');

    for (const [page, who] of [[ann, 'Ann'], [bob, 'Bob']]) {
      await page.getByTestId('in-call').getByText('Video call', { exact: true }).waitFor();
      await framesFlow(page, undefined, `${who}'s inbound video`);
      const stats = await page.evaluate(() => window.callStats());
      assert.equal(stats.configuration, 'relay', `${who}'s ICE is restricted to relays`);
      assert.equal(stats.local, 'relay', `${who}'s selected pair is local relay`);
      assert.equal(stats.remote, 'relay', `${who}'s selected pair is remote relay`);
    }
    await ann.screenshot({ path: path.join(artifacts, 'call-active-phone.png') });

    // Mute and camera off are local toggles.
    await ann.getByRole('button', { name: 'Mute' }).click();
    await ann.getByRole('button', { name: 'Unmute' }).click();
    await ann.getByRole('button', { name: 'Turn camera off' }).click();
    assert.equal(await ann.evaluate(() => document.querySelector('[data-testid=local-video]').srcObject.getVideoTracks()[0].enabled), false);
    await ann.getByRole('button', { name: 'Turn camera on' }).click();
  });

  test('A shares the screen: B receives the extra track; A stops sharing', async () => {
    const { ann, bob } = users;
    await ann.getByRole('button', { name: 'Share screen' }).click();
    await ann.getByTestId('local-screen').waitFor();
    const screen = bob.getByTestId('remote-screen');
    await screen.waitFor();
    const track = await screen.evaluate((video) => video.srcObject.getVideoTracks()[0].id);
    const camera = await bob.getByTestId('remote-video').evaluate((video) => video.srcObject.getVideoTracks()[0].id);
    assert.notEqual(track, camera, 'the screen is a track of its own');
    await framesFlow(bob, track, "Bob's view of Ann's screen");
    await bob.screenshot({ path: path.join(artifacts, 'call-screen-share-phone.png') });

    await ann.getByRole('button', { name: 'Stop sharing' }).click();
    await screen.waitFor({ state: 'detached' });
    await ann.getByTestId('local-screen').waitFor({ state: 'detached' });
    await ann.getByRole('button', { name: 'Share screen' }).waitFor();
    await framesFlow(bob, camera, "Bob's view of Ann's camera after the share");
  });

  test('B reloads the page mid-call: it resumes the call by itself, media flows again both ways, the call goes on', async () => {
    const { ann, bob } = users;
    const annConnections = await ann.evaluate(() => window.connectionsMade());
    await bob.reload();
    // Bob's page, on the same session within the reconnect grace, is still in the call: it
    // offers from a new connection, and Ann's side replaces its connection to Bob's old page.
    await bob.getByTestId('in-call').getByText('Video call', { exact: true }).waitFor();
    await until("Ann's new connection to Bob's reloaded page", async () => (await ann.evaluate(() => window.connectionsMade())) > annConnections);
    for (const [page, who] of [[bob, 'Bob, reloaded'], [ann, 'Ann']]) {
      await framesFlow(page, undefined, `${who}'s inbound video after the reload`);
      const stats = await page.evaluate(() => window.callStats());
      assert.equal(stats.local, 'relay', `${who}'s selected pair is still a relay`);
      assert.equal(await page.getByTestId('remote-video').count(), 1, `${who} shows the other once`);
    }
    assert.equal(await ann.getByTestId('in-call').count(), 1, 'Ann stayed in the call');
    assert.deepEqual(await ann.evaluate(() => window.callsEnded), [], 'the call did not end');
    await bob.screenshot({ path: path.join(artifacts, 'call-resumed-phone.png') });
  });

  test('hanging up ends the call for both and leaves its duration in the chat', async () => {
    const { ann, bob } = users;
    await bob.getByRole('button', { name: 'Hang up' }).click();
    await bob.getByTestId('in-call').waitFor({ state: 'detached' });
    await ann.getByTestId('in-call').waitFor({ state: 'detached' });
    for (const page of [ann, bob]) await systemMessage(page, /^Video call, \d+:\d\d$/).waitFor();
    // One call from the first answer to the hang-up, through Bob's reload: one call.ended, one system message.
    assert.equal((await ann.evaluate(() => window.callsEnded)).length, 1, 'one call.ended');
    for (const page of [ann, bob]) assert.equal(await systemMessage(page, /^Video call, \d+:\d\d$/).count(), 1, 'one system message');
  });

  test('an unanswered call rings out on every device and is a missed call in the chat', async () => {
    const { ann, bob, bobElsewhere } = users;
    await ann.getByRole('button', { name: 'Start a voice call' }).click();
    await bob.getByTestId('incoming-call').getByText('Incoming voice call…').waitFor();
    await bobElsewhere.getByTestId('incoming-call').waitFor();
    // Nobody answers: the server's ring timeout (ringTimeoutMs) ends it.
    for (const page of [bob, bobElsewhere]) await page.getByTestId('incoming-call').waitFor({ state: 'detached', timeout: ringTimeoutMs + timeout });
    await ann.getByTestId('in-call').waitFor({ state: 'detached' });
    for (const page of [ann, bob]) await systemMessage(page, 'Missed voice call').waitFor();
  });

  test('a declined call stops ringing everywhere and is a declined call in the chat', async () => {
    const { ann, bob, bobElsewhere } = users;
    await ann.getByRole('button', { name: 'Start a video call' }).click();
    await bobElsewhere.getByTestId('incoming-call').waitFor();
    await bob.getByRole('button', { name: 'Decline' }).click();
    await bobElsewhere.getByTestId('incoming-call').waitFor({ state: 'detached' });
    await ann.getByTestId('in-call').waitFor({ state: 'detached' });
    for (const page of [ann, bob]) await systemMessage(page, 'Declined video call').waitFor();
  });

  test('a call the caller hangs up before an answer stops ringing everywhere and is a missed call', async () => {
    const { ann, bob, bobElsewhere } = users;
    await ann.getByRole('button', { name: 'Start a video call' }).click();
    await bob.getByTestId('incoming-call').waitFor();
    await bobElsewhere.getByTestId('incoming-call').waitFor();
    await ann.getByRole('button', { name: 'Hang up' }).click();
    for (const page of [bob, bobElsewhere]) await page.getByTestId('incoming-call').waitFor({ state: 'detached' });
    for (const page of [ann, bob]) await systemMessage(page, 'Missed video call').waitFor();
  });

  test('a third member joins a running group call from the chat, and again from a page opened after it started, which then reloads: a mesh of three, media each way', async () => {
    const { ann, bob, bobElsewhere } = users;
    const cara = await openDevice(users.caraSignedIn, groupPath);
    for (const page of [ann, bob]) await page.goto(`${groupPath}?ice=relay`);
    for (const page of [ann, bob, cara]) await page.getByRole('heading', { name: 'Trio' }).waitFor();

    await ann.getByRole('button', { name: 'Start a video call' }).click();
    await cara.getByTestId('incoming-call').waitFor();
    await bob.getByTestId('incoming-call').waitFor();
    await bob.getByRole('button', { name: 'Answer' }).click();
    await bobElsewhere.getByTestId('incoming-call').waitFor({ state: 'detached' });
    // Cara declines the ring, then changes her mind: the chat offers the running call.
    await cara.getByRole('button', { name: 'Decline' }).click();
    await cara.getByTestId('incoming-call').waitFor({ state: 'detached' });
    assert.equal(await ann.getByTestId('join-call').count(), 0, 'no join offered to a participant');
    await cara.getByRole('button', { name: 'Join the video call, 2 in it' }).click();
    await cara.getByTestId('in-call').waitFor();

    await meshFlows([[cara, 'Cara'], [ann, 'Ann'], [bob, 'Bob']]);
    await cara.screenshot({ path: path.join(artifacts, 'call-joined-phone.png') });

    // Cara leaves: the call goes on between the two others and is offered to her again.
    await cara.getByRole('button', { name: 'Hang up' }).click();
    await cara.getByRole('button', { name: 'Join the video call, 2 in it' }).waitFor();
    await ann.getByTestId('remote-video').nth(1).waitFor({ state: 'detached' });
    await cara.context().close();

    // A page loaded after the call started never saw its frames: its chat list marks the chat
    // (the call.updated a connection gets on opening), the chat offers to join (GET
    // /chats/{id}/call), and joining makes the mesh of three again.
    const late = await openDevice(users.caraSignedIn, '/');
    const trio = late.getByTestId('chat-row').filter({ hasText: 'Trio' });
    await trio.getByTestId('call-marker').waitFor();
    await trio.click();
    await late.getByRole('button', { name: 'Join the video call, 2 in it' }).click();
    await late.getByTestId('in-call').waitFor();
    await meshFlows([[late, 'Cara, late'], [ann, 'Ann'], [bob, 'Bob']]);

    // Cara reloads mid-call: her page resumes, offering to both others, who each replace their
    // connection to her old page; the mesh of three is back and the call never ended.
    const endedBefore = (await ann.evaluate(() => window.callsEnded)).length;
    const made = await Promise.all([ann, bob].map((page) => page.evaluate(() => window.connectionsMade())));
    await late.reload();
    await late.getByTestId('in-call').waitFor();
    for (const [i, page] of [ann, bob].entries())
      await until("a new connection to Cara's reloaded page", async () => (await page.evaluate(() => window.connectionsMade())) > made[i]);
    await meshFlows([[late, 'Cara, reloaded'], [ann, 'Ann'], [bob, 'Bob']]);
    assert.equal((await ann.evaluate(() => window.callsEnded)).length, endedBefore, 'the call did not end');

    await late.getByRole('button', { name: 'Hang up' }).click();
    await late.getByRole('button', { name: 'Join the video call, 2 in it' }).waitFor();
    await bob.getByRole('button', { name: 'Hang up' }).click();
    await ann.getByTestId('in-call').waitFor({ state: 'detached' });
    await late.getByTestId('join-call').waitFor({ state: 'detached' });
    for (const page of [ann, late]) await systemMessage(page, /^Video call, \d+:\d\d$/).waitFor();
    await late.goto('/');
    await late.getByTestId('chat-row').filter({ hasText: 'Trio' }).waitFor();
    assert.equal(await late.getByTestId('call-marker').count(), 0, 'no marker once the call ended');
    await late.context().close();
  });
});

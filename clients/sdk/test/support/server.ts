// Starts the real confab binary against a fresh database of the test PostgreSQL, as the C++
// integration tests do (tests/support/server.cpp): port 0 read back from CONFAB_PORT_FILE, a
// private media directory, migrations applied by the server itself at start.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, watch, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { after, before } from 'node:test';

// The server under test: CONFAB_TEST_SERVER_BIN when set (scripts/dev's sanitizer phase points
// it at an instrumented build), else CONFAB_BIN, this build's.
const serverBinary = (): string | undefined => process.env.CONFAB_TEST_SERVER_BIN || process.env.CONFAB_BIN;

export const databaseConfigured = (): boolean => !!process.env.CONFAB_TEST_DATABASE_URL && !!serverBinary();
export const skipReason = 'CONFAB_TEST_DATABASE_URL and CONFAB_BIN are not set (ctest sets CONFAB_BIN)';

function adminUrl(): string {
  const url = process.env.CONFAB_TEST_DATABASE_URL;
  if (!url) throw new Error(skipReason);
  return url;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = '/' + name;
  return parsed.toString();
}

const psql = (sql: string) => execFileSync('psql', [adminUrl(), '-v', 'ON_ERROR_STOP=1', '-qc', sql], { stdio: 'pipe' });

export class TestDatabase {
  readonly name = `confab_sdk_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  readonly url = withDatabase(adminUrl(), this.name);
  constructor() {
    psql(`CREATE DATABASE "${this.name}"`);
  }
  drop(): void {
    psql(`DROP DATABASE IF EXISTS "${this.name}" WITH (FORCE)`);
  }
}

const generousLimits = Object.fromEntries([
  ['CONFAB_LIMIT_AUTH_PER_IP_PER_MINUTE', '1000000'],
  ['CONFAB_LIMIT_LOGIN_FAILURES_PER_ACCOUNT_PER_MINUTE', '1000000'],
  ['CONFAB_LIMIT_CONNECTIONS_PER_USER', '1000000'],
  ['CONFAB_LIMIT_CONNECTIONS_PER_IP', '1000000'],
  ['CONFAB_PASSWORD_HASH_OPS', '1'],
  ['CONFAB_PASSWORD_HASH_MEM_KIB', '1024'],
  ...['MESSAGE', 'REQUEST', 'TYPING', 'UPLOAD', 'CHANGE'].flatMap((limit) => [
    [`CONFAB_LIMIT_${limit}_BURST`, '1000000'],
    [`CONFAB_LIMIT_${limit}_RATE`, '1000000'],
  ]),
]);

export class TestServer {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'confab-sdk-'));
  port = 0;

  constructor(private readonly database: TestDatabase, private readonly env: Record<string, string> = {}) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the server (on the port it had before, when restarted) and waits until it is ready. */
  async start(): Promise<void> {
    const portFile = path.join(this.dir, 'port');
    rmSync(portFile, { force: true });
    const log = openSync(path.join(this.dir, 'confab.log'), 'a');
    const written = this.portFileWritten(portFile);
    this.child = spawn(serverBinary()!, [], {
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        ...generousLimits,
        CONFAB_DATABASE_URL: this.database.url,
        CONFAB_HTTP_PORT: String(this.port),
        CONFAB_PORT_FILE: portFile,
        CONFAB_LISTEN_ADDRESS: '127.0.0.1',
        CONFAB_MEDIA_DIR: path.join(this.dir, 'media'),
        ...this.env,
      },
    });
    const failed = Promise.race([once(this.child, 'exit'), once(this.child, 'error')]).then((reason) => {
      throw new Error(`confab did not start (${reason}); log:\n${this.logTail()}`);
    });
    try {
      await Promise.race([written.promise, failed]);
    } finally {
      written.close();
      failed.catch(() => undefined);
    }
    this.port = Number(readFileSync(portFile, 'utf8').trim());
  }

  /** SIGTERM (graceful) or SIGKILL, by PID; resolves when the process has exited. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    process.kill(child.pid!, signal);
    await exited;
    this.child = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  logTail(): string {
    try {
      return readFileSync(path.join(this.dir, 'confab.log'), 'utf8').split('\n').slice(-30).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** The server writes the port file once it listens (after its migrations). */
  private portFileWritten(portFile: string): { promise: Promise<void>; close: () => void } {
    let close = () => {};
    const promise = new Promise<void>((resolve) => {
      const watcher = watch(this.dir, () => {
        if (existsSync(portFile) && readFileSync(portFile, 'utf8').trim() !== '') resolve();
      });
      close = () => watcher.close();
    });
    return { promise, close };
  }
}

/**
 * A server on a fresh database for the `describe` block that calls this, started before its
 * tests and, after them, stopped with its database dropped and every client and bloc the tests
 * pushed to `clients` and `blocs` stopped first.
 */
export function serverForSuite(env: Record<string, string> = {}) {
  let database: TestDatabase | undefined;
  let server: TestServer | undefined;
  const clients: { stop(): void }[] = [];
  const blocs: { dispose(): void }[] = [];
  before(async () => {
    database = new TestDatabase();
    server = new TestServer(database, env);
    await server.start();
  });
  after(async () => {
    blocs.forEach((b) => b.dispose());
    clients.forEach((c) => c.stop());
    await server?.dispose();
    database?.drop();
  });
  return {
    get server(): TestServer {
      if (!server) throw new Error('the suite server has not started');
      return server;
    },
    clients,
    blocs,
  };
}

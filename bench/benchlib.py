"""What the Python benchmarks of bench/ share: a durable PostgreSQL cluster of their own (or
one given), a fresh database and a server started on it, a small JSON client, a small
WebSocket client, the server's metrics, CPU time from /proc, percentiles; for bench/cluster
also a private nats-server. Imported by bench/downloads, bench/search, bench/scheduled,
bench/push and bench/cluster (each puts bench/ on sys.path)."""

import base64
import http.client
import json
import os
import resource
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
PG_BIN = os.environ.get("CONFAB_PG_BIN", "/usr/lib/postgresql/15/bin")
# Every per-user and per-address limit out of the way: the load comes from one address and a
# few users (as bench/run does).
LIFTED_LIMITS = (
    "CONFAB_LIMIT_MESSAGE_BURST", "CONFAB_LIMIT_MESSAGE_RATE", "CONFAB_LIMIT_REQUEST_BURST",
    "CONFAB_LIMIT_REQUEST_RATE", "CONFAB_LIMIT_UPLOAD_BURST", "CONFAB_LIMIT_UPLOAD_RATE",
    "CONFAB_LIMIT_AUTH_PER_IP_PER_MINUTE", "CONFAB_LIMIT_CONNECTIONS_PER_IP",
)


def add_server_arguments(parser):
    parser.add_argument("--database-url",
                        help="superuser URL of a running cluster, ending in /DBNAME (default: a private durable "
                             "cluster started for the run, as bench/run does)")
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--config", default=os.path.join(ROOT, "config/confab.toml"),
                        help="the server's settings (an older build needs its own version of the file)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of the process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid):
    """CPU seconds of the process and of its live children (a postmaster and its backends)."""
    total = cpu_seconds(pid)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    total += cpu_seconds(int(entry))
        except (OSError, ValueError):
            pass  # gone meanwhile
    return total


def metrics(port):
    """The server's /metrics as {"name{labels}": value} (loopback needs no token)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    connection.close()
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Api:
    def __init__(self, port, token=None):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.token = token

    def call(self, method, target, body=None, headers=None, expect=(200, 201)):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.connection.request(method, target, body=body, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        if response.status not in expect:
            raise RuntimeError(f"{method} {target}: HTTP {response.status} {payload[:300]!r}")
        return json.loads(payload) if payload else None


def raise_open_files_limit():
    """Thousands of sockets in this process and in the servers it starts (they inherit it)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def wait_for_port(port, process, what, seconds=30):
    """Until something accepts connections on 127.0.0.1:`port`; fails when `process` exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {seconds} s")


def as_postgres(command):
    """PostgreSQL's tools refuse to run as root: then they run as the postgres user."""
    return ["runuser", "-u", "postgres", "--"] + command if os.geteuid() == 0 else command


class DurableCluster:
    """`with DurableCluster() as cluster:` a fresh PostgreSQL cluster in a scratch directory on
    a free port, durable as in production (fsync and synchronous_commit on; the rest as
    bench/run sets it, pg_stat_statements loaded): cluster.url (superuser, ending in
    /postgres) and cluster.pid (the postmaster). Leaving stops it and removes the directory."""

    def __enter__(self):
        self.directory = tempfile.mkdtemp(prefix="confab-bench-pg.")
        data = os.path.join(self.directory, "data")
        os.mkdir(data, 0o700)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
            shutil.chown(data, "postgres", "postgres")
        subprocess.run(as_postgres([os.path.join(PG_BIN, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
                                    "-E", "UTF8", "--no-locale"]), check=True, stdout=subprocess.DEVNULL, cwd="/")
        with open(os.path.join(data, "postgresql.conf"), "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nunix_socket_directories = '{self.directory}'\n"
                       "fsync = on\nsynchronous_commit = on\nshared_buffers = 1GB\nmax_connections = 200\n"
                       "shared_preload_libraries = 'pg_stat_statements'\n")
        self.started = False
        for _ in range(3):  # a free port may be taken by another socket before the cluster binds it
            port = free_port()
            start = subprocess.run(as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-l",
                                                os.path.join(self.directory, "postgres.log"), "-o", f"-p {port}",
                                                "-w", "-t", "60", "start"]),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
            if start.returncode == 0:
                self.started = True
                break
        if not self.started:
            self.__exit__(None, None, None)
            raise RuntimeError(f"PostgreSQL did not start (log: {self.directory}/postgres.log)")
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        with open(os.path.join(data, "postmaster.pid")) as f:
            self.pid = int(f.readline())
        return self

    def __exit__(self, *exc):
        if self.started:
            subprocess.run(as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", os.path.join(self.directory, "data"),
                                        "-m", "fast", "-w", "stop"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/")
        shutil.rmtree(self.directory, ignore_errors=True)
        return False


class NatsServer:
    """`with NatsServer() as nats:` a private nats-server (Debian's /usr/sbin/nats-server, or
    NATS_SERVER) on a free loopback port: nats.url, nats.process. Leaving stops it by its PID."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="confab-bench-nats.")
        port = free_port()
        self.url = f"nats://127.0.0.1:{port}"
        binary = os.environ.get("NATS_SERVER", shutil.which("nats-server") or "/usr/sbin/nats-server")
        with open(os.path.join(self.dir, "nats.log"), "w") as log:
            self.process = subprocess.Popen([binary, "-a", "127.0.0.1", "-p", str(port)], stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port(port, self.process, "nats-server")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


class BenchServer:
    """`with BenchServer(args, "confab_x", extra_env) as bench:` a fresh database `confab_x` on
    the cluster of args.database_url (none given: on a DurableCluster of its own, whose
    postmaster is bench.postgres_pid; else that is None), the server of args.build_dir
    started on it on a free port (bench.port, bench.process), a scratch directory (bench.work,
    the media under it unless extra_env names CONFAB_MEDIA_DIR) and psql commands for the
    cluster (bench.admin_psql) and the bench's database (bench.psql). Leaving stops the
    server and the cluster and removes the directory. With fresh_database=False the database
    is used as it is: another node of a cluster on the database of a BenchServer started
    before it."""

    def __init__(self, args, database, extra_env=None, fresh_database=True):
        self.args, self.database, self.extra_env = args, database, dict(extra_env or {})
        self.fresh_database = fresh_database
        self.cluster, self.postgres_pid, self.process = None, None, None

    def __enter__(self):
        cluster_url = self.args.database_url
        if not cluster_url:
            self.cluster = DurableCluster().__enter__()
            cluster_url, self.postgres_pid = self.cluster.url, self.cluster.pid
        self.admin_psql = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", cluster_url]
        self.url = cluster_url.rsplit("/", 1)[0] + "/" + self.database
        self.psql = self.admin_psql[:-1] + [self.url]
        try:
            if self.fresh_database:
                self._create_database()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.work = tempfile.mkdtemp(prefix=f"{self.database}.")
        try:
            self.port = free_port()
            self.process = self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _create_database(self):
        subprocess.run(self.admin_psql + ["-c", f"DROP DATABASE IF EXISTS {self.database}",
                                          "-c", f"CREATE DATABASE {self.database}"],
                       check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"))

    def __exit__(self, *exc):
        if self.process:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        if hasattr(self, "work"):
            shutil.rmtree(self.work, ignore_errors=True)
        if self.cluster:
            self.cluster.__exit__(None, None, None)
        return False

    def _start(self):
        env = dict(os.environ)
        env.update({variable: "1000000" for variable in LIFTED_LIMITS})
        env.update({
            "CONFAB_DATABASE_URL": self.url, "CONFAB_HTTP_PORT": str(self.port),
            "CONFAB_LISTEN_ADDRESS": "127.0.0.1", "CONFAB_MEDIA_DIR": os.path.join(self.work, "media"),
            "CONFAB_PASSWORD_HASH_OPS": "1", "CONFAB_PASSWORD_HASH_MEM_KIB": "8", "CONFAB_LOG_LEVEL": "warn",
        })
        env.update(self.extra_env)
        # Its own name and session, as in bench/run: a `killall confab` meant for another
        # server on a shared machine does not stop this one.
        binary = os.path.join(self.work, "bench-server")
        os.symlink(os.path.realpath(os.path.join(self.args.build_dir, "confab")), binary)
        log = open(os.path.join(self.work, "server.log"), "w")
        server = subprocess.Popen([binary, "--config", self.args.config], env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited: {open(log.name).read()[-2000:]}")
            try:
                Api(self.port).call("GET", "/readyz")
                return server
            except (OSError, RuntimeError, http.client.HTTPException):
                time.sleep(0.1)
        server.kill()
        raise RuntimeError("the server did not become ready")


def websocket_handshake(port, token, timeout):
    """A blocking socket upgraded to the server's WebSocket with `token`, and the bytes read past
    the handshake's answer."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    connection.sendall((f"GET /api/v1/ws?access_token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n").encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = connection.recv(65536)
        if not chunk:
            raise RuntimeError("the WebSocket handshake was cut off")
        answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"WebSocket handshake refused: {head.splitlines()[0]!r}")
    return connection, rest


class WebSockets:
    """`with WebSockets(port, tokens) as sockets:` one WebSocket per token (GET /api/v1/ws),
    kept open and drained by one thread that answers the server's pings, so that their users
    stay online however long the run. sockets.frames counts the frames received; sockets.closed
    the connections the server closed; on_text, when given, is called (on the draining thread)
    with each text frame's payload as it arrives."""

    def __init__(self, port, tokens, on_text=None):
        self.port, self.tokens, self.on_text = port, tokens, on_text
        self.frames = self.closed = 0
        self.selector = selectors.DefaultSelector()
        self.running = True

    def __enter__(self):
        for token in self.tokens:
            connection, rest = self._open(token)
            self.selector.register(connection, selectors.EVENT_READ, bytearray(rest))
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()
        self.selector.close()
        return False

    def _open(self, token):
        connection, rest = websocket_handshake(self.port, token, timeout=30)
        connection.setblocking(False)
        return connection, rest

    @staticmethod
    def _send(connection, opcode, payload):
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        connection.setblocking(True)
        connection.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)
        connection.setblocking(False)

    def _drain(self):
        while self.running:
            for key, _ in self.selector.select(timeout=0.2):
                try:
                    chunk = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    self.closed += 1
                    self.selector.unregister(key.fileobj)
                    continue
                key.data.extend(chunk)
                self._frames(key.fileobj, key.data)

    def _frames(self, connection, buffer):
        while len(buffer) >= 2:
            opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = struct.unpack("!H", buffer[2:4])[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = struct.unpack("!Q", buffer[2:10])[0], 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start:start + length])
            del buffer[:start + length]
            if opcode == 0x9:
                self._send(connection, 0xA, payload)
            else:
                self.frames += 1
                if self.on_text and opcode == 0x1:
                    self.on_text(payload)

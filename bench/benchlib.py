"""What the Python benchmarks of bench/ share: a fresh database and a server started on it,
a small JSON client, percentiles; for bench/cluster also a private PostgreSQL cluster and a
private nats-server. Imported by bench/downloads, bench/search, bench/scheduled and
bench/cluster (each puts bench/ on sys.path)."""

import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
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


def add_server_arguments(parser, private_cluster=False):
    """With `private_cluster`, --database-url may be left out: the bench starts a PrivatePostgres."""
    parser.add_argument("--database-url", required=not private_cluster,
                        help="superuser URL of a running cluster, ending in /DBNAME" +
                             ("; omit: a private durable cluster of its own" if private_cluster else ""))
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--config", default=os.path.join(ROOT, "config/confab.toml"),
                        help="the server's settings (an older build needs its own version of the file)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


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


def _as_postgres(command):
    """PostgreSQL refuses to run as root: as root, run it as the postgres user (as bench/run does)."""
    return ["runuser", "-u", "postgres", "--"] + command if os.geteuid() == 0 else command


class PrivatePostgres:
    """`with PrivatePostgres() as pg:` a fresh PostgreSQL cluster, durable as in production and
    as bench/run's (fsync and synchronous_commit on), in a private directory on a free port:
    pg.url is its superuser URL (ending in /postgres), pg.pid the postmaster's process id.
    Leaving stops it by that PID (a fast shutdown) and removes the directory."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="confab-bench-pg.")
        self.pid = None
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self):
        data = os.path.join(self.dir, "data")
        os.mkdir(data, 0o700)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(data, "postgres", "postgres")
        subprocess.run(_as_postgres([os.path.join(PG_BIN, "initdb"), "-D", data, "-U", "postgres", "-A", "trust",
                                     "-E", "UTF8", "--no-locale"]), check=True, cwd="/", stdout=subprocess.DEVNULL)
        port = free_port()
        with open(os.path.join(data, "postgresql.conf"), "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{self.dir}'\n"
                       "fsync = on\nsynchronous_commit = on\nshared_buffers = 1GB\nmax_connections = 200\n")
        subprocess.run(_as_postgres([os.path.join(PG_BIN, "pg_ctl"), "-D", data, "-l",
                                     os.path.join(self.dir, "postgres.log"), "-w", "-t", "60", "start"]),
                       check=True, cwd="/", stdout=subprocess.DEVNULL)
        with open(os.path.join(data, "postmaster.pid")) as pid_file:
            self.pid = int(pid_file.readline())
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def __exit__(self, *exc):
        if self.pid:
            os.kill(self.pid, signal.SIGINT)  # fast shutdown: the postmaster ends its backends
            deadline = time.monotonic() + 60
            while os.path.exists(f"/proc/{self.pid}") and time.monotonic() < deadline:
                time.sleep(0.1)
        shutil.rmtree(self.dir, ignore_errors=True)
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


class BenchServer:
    """`with BenchServer(args, "confab_x", extra_env) as bench:` a fresh database `confab_x` on
    the cluster of args.database_url, the server of args.build_dir started on it on a free port
    (bench.port, bench.process), a scratch directory (bench.work, the media under it unless
    extra_env names CONFAB_MEDIA_DIR) and psql commands for the cluster (bench.admin_psql) and
    the bench's database (bench.psql). Leaving stops the server and removes the directory.
    With fresh_database=False the database is used as it is: another node of a cluster on the
    database of a BenchServer started before it."""

    def __init__(self, args, database, extra_env=None, fresh_database=True):
        self.args, self.database, self.extra_env = args, database, dict(extra_env or {})
        self.fresh_database = fresh_database
        self.admin_psql = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", args.database_url]
        self.url = args.database_url.rsplit("/", 1)[0] + "/" + database
        self.psql = self.admin_psql[:-1] + [self.url]
        self.process = None

    def __enter__(self):
        if self.fresh_database:
            subprocess.run(self.admin_psql + ["-c", f"DROP DATABASE IF EXISTS {self.database}",
                                              "-c", f"CREATE DATABASE {self.database}"],
                           check=True, stdout=subprocess.DEVNULL,
                           env=dict(os.environ, PGOPTIONS="-c client_min_messages=warning"))
        self.work = tempfile.mkdtemp(prefix=f"{self.database}.")
        try:
            self.port = free_port()
            self.process = self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        if self.process:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        shutil.rmtree(self.work, ignore_errors=True)
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

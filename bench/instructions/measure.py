#!/usr/bin/env python3
"""The server's instructions per message, counted by valgrind's callgrind (issue #14; method and
results: docs/performance.md, "Instructions per message"). Instruction counts do not depend on
the machine's load, so old and new code can be compared on a shared machine where CPU time
cannot (and `perf stat -e instructions` reports "not supported" in this VM: no PMU).

  bench/instructions/measure.py --build-dir BUILD --config CONFIG --database-url URL \\
      [--messages 200 1200] [--connected 10 1] [--repeat 2] [--idle-seconds 30] [--label NAME] [--out DIR]

For each repeat, each count of connected members and each message count, one run: a fresh
database on the cluster of URL (a superuser URL ending in /DBNAME), the server of BUILD started
under callgrind with instrumentation off, 10 users registered, one group of all of them, the
first CONNECTED of them on a WebSocket each; then instrumentation on, the first member sends
MESSAGES text messages one at a time, each waited for until it is acked and every connected
member (the sender's own connection included) has its message.new, instrumentation off, and
the counts dumped. Prints and writes (DIR/LABEL.txt) the instructions (Ir) of each window and,
per repeat, (Ir(largest) - Ir(smallest)) / (largest - smallest): the instructions per message,
the fixed cost of a window cancelled out. With --idle-seconds, also a window of that length
without messages (the first CONNECTED only): what the server's timers (push derivation,
analytics, ...) cost per second; the larger window lasts longer, so the figure per message
is also given without that idle rate times the difference of the windows' durations (under
valgrind a message takes many times as long as natively, and its share of the timers' work
grows with it). An older build needs its own config file (--config of its tree). The
callgrind dumps stay in DIR for callgrind_annotate and by_function.py. The server is preloaded
with hwy_timer_shim.cpp, built into DIR (see there why).
"""

import argparse
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import json

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
import benchlib  # noqa: E402

MEMBERS = 10
# Every message the same length, so that each costs the server the same.
CONTENT = "instruction count probe " + "x" * 40


def hwy_timer_shim(directory):
    """The preload library of hwy_timer_shim.cpp (see there), built into `directory`."""
    library = os.path.join(directory, "hwy_timer_shim.so")
    source = os.path.join(os.path.dirname(os.path.realpath(__file__)), "hwy_timer_shim.cpp")
    subprocess.run([os.environ.get("CXX", "clang++-14"), "-std=c++20", "-O2", "-shared", "-fPIC", "-o", library,
                    source], check=True)
    return library


def start_server(args, database, work):
    env = dict(os.environ, LD_PRELOAD=args.shim)
    env.update({variable: "1000000" for variable in benchlib.LIFTED_LIMITS})
    env.update({
        "CONFAB_DATABASE_URL": database, "CONFAB_HTTP_PORT": "0", "CONFAB_LISTEN_ADDRESS": "127.0.0.1",
        "CONFAB_PORT_FILE": os.path.join(work, "port"), "CONFAB_MEDIA_DIR": os.path.join(work, "media"),
        "CONFAB_PASSWORD_HASH_OPS": "1", "CONFAB_PASSWORD_HASH_MEM_KIB": "8", "CONFAB_LOG_LEVEL": "warn",
    })
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={os.path.join(work, 'callgrind.out')}",
               os.path.realpath(os.path.join(args.build_dir, "confab")), "--config", args.config]
    log = open(os.path.join(work, "server.log"), "w")
    # Its own session: a signal to this script's group does not reach it, nor it ours.
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    port_file = os.path.join(work, "port")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited: {open(log.name).read()[-2000:]}")
        if os.path.exists(port_file):
            port = int(open(port_file).read())
            try:
                benchlib.Api(port).call("GET", "/readyz")
                return server, port
            except (OSError, RuntimeError):
                pass
        time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not become ready")


def callgrind_control(pid, *options):
    subprocess.run(["callgrind_control", *options, str(pid)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


class Socket:
    """A blocking WebSocket client of one member: sends text frames, reads JSON events."""

    def __init__(self, port, token):
        self.connection, rest = benchlib.websocket_handshake(port, token, timeout=600)
        self.buffer = bytearray(rest)

    def send(self, opcode, payload):
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        mask = os.urandom(4)
        self.connection.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send_json(self, value):
        self.send(0x1, json.dumps(value).encode())

    def events(self):
        """The JSON events already received; reads once if none is complete."""
        found = []
        while not found:
            while True:
                frame = self._frame()
                if frame is None:
                    break
                opcode, payload = frame
                if opcode == 0x9:
                    self.send(0xA, payload)
                elif opcode == 0x8:
                    raise RuntimeError(f"the server closed a WebSocket: {payload!r}")
                elif opcode == 0x1:
                    found.append(json.loads(payload))
            if not found:
                chunk = self.connection.recv(1 << 20)
                if not chunk:
                    raise RuntimeError("a WebSocket was cut off")
                self.buffer.extend(chunk)
        return found

    def _frame(self):
        buffer = self.buffer
        if len(buffer) < 2:
            return None
        opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
        if length == 126:
            if len(buffer) < 4:
                return None
            length, start = struct.unpack("!H", buffer[2:4])[0], 4
        elif length == 127:
            if len(buffer) < 10:
                return None
            length, start = struct.unpack("!Q", buffer[2:10])[0], 10
        if len(buffer) < start + length:
            return None
        payload = bytes(buffer[start:start + length])
        del buffer[:start + length]
        return opcode, payload

    def wait_for(self, done):
        while True:
            for event in self.events():
                if done(event):
                    return


def set_up(port, connected):
    users = []
    for i in range(MEMBERS):
        registered = benchlib.Api(port).call("POST", "/api/v1/auth/register",
                                             {"username": f"probe{i}", "password": "probe-password"})
        users.append((registered["user"]["id"], registered["token"]))
    owner = benchlib.Api(port, users[0][1])
    chat = owner.call("POST", "/api/v1/chats", {"type": "group", "title": "probe",
                                               "member_ids": [user_id for user_id, _ in users[1:]]})
    sockets = [Socket(port, token) for _, token in users[:connected]]
    # Whatever the connects caused (presence) is over once each socket has its pong.
    for s in sockets:
        s.send_json({"type": "ping", "id": "settle", "data": {}})
        s.wait_for(lambda event: event.get("type") == "ack" and event.get("id") == "settle")
    return chat["id"], sockets


def send_messages(chat_id, sockets, count):
    sender = sockets[0]
    for n in range(count):
        client_id = f"probe-{n:06d}"
        sender.send_json({"type": "message.send", "id": client_id,
                          "data": {"chat_id": chat_id, "type": "text", "content": CONTENT, "client_id": client_id}})
        for s in sockets:
            needed = {"message.new"} | ({"ack"} if s is sender else set())

            def done(event, needed=needed):
                if event.get("type") == "error":
                    raise RuntimeError(f"the send failed: {event}")
                if event.get("type") == "ack" and event.get("id") == client_id:
                    needed.discard("ack")
                if event.get("type") == "message.new" and event["data"]["message"].get("client_id") == client_id:
                    needed.discard("message.new")
                return not needed

            s.wait_for(done)


def total_instructions(dump):
    with open(dump) as f:
        for line in f:
            # "totals:", not "summary:": after a zeroing, callgrind 3.19 writes a summary of 0.
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {dump}")


def one_run(args, connected, count, name):
    database = f"cg_{name}".replace("-", "_")
    admin = args.database_url.rsplit("/", 1)[0] + "/postgres"
    psql = [os.path.join(benchlib.PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", admin]
    quiet = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    subprocess.run(psql + ["-c", f"DROP DATABASE IF EXISTS {database}", "-c", f"CREATE DATABASE {database}"],
                   check=True, stdout=subprocess.DEVNULL, env=quiet)
    work = tempfile.mkdtemp(prefix=f"confab-instructions-{name}.")
    server = None
    try:
        server, port = start_server(args, args.database_url.rsplit("/", 1)[0] + "/" + database, work)
        chat_id, sockets = set_up(port, connected)
        started = time.monotonic()
        callgrind_control(server.pid, "-z")
        callgrind_control(server.pid, "-i", "on")
        if count:
            send_messages(chat_id, sockets, count)
        else:
            time.sleep(args.idle_seconds)
        callgrind_control(server.pid, "-i", "off")
        seconds = time.monotonic() - started
        callgrind_control(server.pid, "-d", name)
        dump = os.path.join(work, "callgrind.out.1")
        kept = os.path.join(args.out, f"callgrind.{name}")
        shutil.copyfile(dump, kept)
        return total_instructions(dump), seconds
    finally:
        if server:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=120)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(work, ignore_errors=True)
        subprocess.run(psql + ["-c", f"DROP DATABASE IF EXISTS {database}"], stdout=subprocess.DEVNULL, env=quiet)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--messages", type=int, nargs="+", default=[200, 1200])
    parser.add_argument("--connected", type=int, nargs="+", default=[MEMBERS])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--idle-seconds", type=float, default=0,
                        help="also, per repeat, one window of this many seconds without a message: what the "
                             "server's timers cost per second while a window lasts")
    parser.add_argument("--label", default="run")
    parser.add_argument("--out", default=".")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    args.shim = hwy_timer_shim(args.out)
    lines = [f"# {args.label}: {os.path.realpath(args.build_dir)}, group of {MEMBERS}, "
             f"content {len(CONTENT)} characters",
             "# repeat connected messages Ir seconds"]
    print("\n".join(lines), flush=True)
    counts, durations = {}, {}
    for repeat in range(1, args.repeat + 1):
        for connected in args.connected:
            idle = [0] if args.idle_seconds and connected == args.connected[0] else []
            for count in args.messages + idle:
                name = f"{args.label}-r{repeat}-c{connected}-n{count}"
                instructions, seconds = one_run(args, connected, count, name)
                counts[(repeat, connected, count)] = instructions
                durations[(repeat, connected, count)] = seconds
                line = f"{repeat} {connected} {count} {instructions} {seconds:.1f}"
                lines.append(line)
                print(line, flush=True)
    idle_rate = {}
    if args.idle_seconds:
        lines.append("# repeat connected idle_Ir_per_second")
        for repeat in range(1, args.repeat + 1):
            key = (repeat, args.connected[0], 0)
            idle_rate[repeat] = counts[key] / durations[key]
            line = f"{repeat} {args.connected[0]} {idle_rate[repeat]:.0f}"
            lines.append(line)
            print(line, flush=True)
    small, large = min(args.messages), max(args.messages)
    lines.append("# repeat connected Ir_per_message = (Ir(large) - Ir(small)) / (large - small)"
                 + (" without_idle = the same less idle_Ir_per_second"
                    " * (seconds(large) - seconds(small)) / (large - small)" if args.idle_seconds else ""))
    for repeat in range(1, args.repeat + 1):
        for connected in args.connected:
            larger, smaller = (repeat, connected, large), (repeat, connected, small)
            per_message = (counts[larger] - counts[smaller]) / (large - small)
            line = f"{repeat} {connected} {per_message:.0f}"
            if args.idle_seconds:
                idle = idle_rate[repeat] * (durations[larger] - durations[smaller]) / (large - small)
                line += f" {per_message - idle:.0f}"
            lines.append(line)
            print(line, flush=True)
    with open(os.path.join(args.out, f"{args.label}.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

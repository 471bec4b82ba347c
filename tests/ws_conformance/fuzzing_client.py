#!/usr/bin/python3
"""Runs the Autobahn|Testsuite server cases of catalogue.py against a WebSocket echo server.

The client side is AutobahnPython (Debian's python3-autobahn), the library the Testsuite is
built on: its frame parser, UTF-8 validator and closing-handshake state machine judge what
the server sends, as in the suite. Outgoing frames are written raw, so that they can be as
wrong as each case needs. Outcomes are the suite's: Pass, Non-Strict (conformant, but not
the behaviour the RFC prefers), Info (left open by the RFC) and Fail.

Usage: fuzzing_client.py ws://127.0.0.1:8080/ws-echo [CASE-PATTERN...]
Exit status: 0 when no case failed, 1 when one did, 2 when the suite could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import fnmatch
import sys
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlparse

try:
    import txaio
    from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol
except ImportError:
    print("fuzzing_client: AutobahnPython is missing; install Debian's python3-autobahn "
          "(./scripts/dev test installs it)", file=sys.stderr)
    sys.exit(2)

import catalogue as cat

txaio.set_global_log_level("error")  # each case's verdict already says what the client saw

PASS, NON_STRICT, INFO, FAIL = "Pass", "Non-Strict", "Info", "Fail"
SEVERITY = {PASS: 0, INFO: 0, NON_STRICT: 1, FAIL: 2}
HANDSHAKE_WAIT = 5.0  # for the opening handshake
CLOSE_WAIT = 5.0      # for the server to finish closing once it should


class ObservingClient(WebSocketClientProtocol):
    """Records the messages and pongs the server sends; each change wakes wait_until()."""

    def __init__(self):
        super().__init__()
        self.events: list[tuple] = []
        self.changed = asyncio.Event()
        self.timed_out = False    # the server never finished closing
        self.failed_late = False  # a FailFast step passed with the connection still open

    def onOpen(self):
        self.changed.set()

    def onMessage(self, payload, isBinary):
        self.events.append(("message", payload, isBinary))
        self.changed.set()

    def onPong(self, payload):
        self.events.append(("pong", payload))
        self.changed.set()

    def onCloseFrame(self, code, reasonRaw):
        stop = super().onCloseFrame(code, reasonRaw)
        self.changed.set()
        return stop

    def onClose(self, wasClean, code, reason):
        self.changed.set()

    async def wait_until(self, condition, timeout: float) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return False
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except asyncio.TimeoutError:
                return condition()
        return True

    def is_closed_now(self) -> bool:
        return self.state == self.STATE_CLOSED

    def server_ended(self) -> bool:
        """The server sent a close frame or dropped the connection, unasked."""
        return self.state != self.STATE_OPEN and not self.closedByMe

    def may_send(self) -> bool:
        """Open, or closing only because this client began to (section 7 sends after its close)."""
        return self.state == self.STATE_OPEN or (self.state == self.STATE_CLOSING and self.closedByMe)

    def closing_started(self):
        """Autobahn's bookkeeping for a close frame written raw, as if sendClose() had sent it."""
        if self.state == self.STATE_OPEN:
            self.state = self.STATE_CLOSING
            self.closedByMe = True


async def write_in_chops(client: ObservingClient, data: bytes, chop: int):
    """One write per chop, each handed to the kernel before the next (TCP_NODELAY is on)."""
    for start in range(0, len(data), chop):
        if not client.may_send():
            return
        client.transport.write(data[start:start + chop])
        await asyncio.sleep(0)


async def perform(client: ObservingClient, steps: list, round_trip_timeout: float):
    together = bytearray()  # plain sends since the last flush: one chop

    def flush():
        if together:
            client.transport.write(bytes(together))
            together.clear()

    for step in steps:
        if not client.may_send():
            return
        match step:
            case cat.Send(chop=None, flush=False):
                together += step.encode()
            case cat.Send():
                flush()
                frames = step.encode()
                await write_in_chops(client, frames, step.chop or len(frames))
            case cat.SendClose():
                together += cat.encode_frame(cat.CLOSE, step.payload)
                client.closing_started()
            case cat.Raw():
                flush()
                await write_in_chops(client, step.data, len(step.data))
            case cat.Pause():
                flush()
                await asyncio.sleep(step.seconds)
            case cat.FailFast():
                flush()
                client.failed_late = not await client.wait_until(client.server_ended, step.seconds)
            case cat.RoundTrips():
                flush()
                for _ in range(step.count):
                    received = len(client.events)
                    client.transport.write(cat.encode_frame(step.opcode, step.payload))
                    if not await client.wait_until(lambda: len(client.events) > received or not client.may_send(),
                                                   round_trip_timeout):
                        return
            case _:
                raise TypeError(f"unknown step {step!r}")
    flush()


async def converse(client: ObservingClient, case: cat.Case):
    await perform(client, case.steps, case.timeout)
    if case.closing.by_client:
        await client.wait_until(lambda: client.events == case.expect or client.state != client.STATE_OPEN,
                                case.timeout)


@dataclass
class Result:
    case: cat.Case
    outcome: str
    note: str
    close_code: int | None
    seconds: float


async def run_case(case: cat.Case, url: str) -> Result:
    started = time.monotonic()
    address = urlparse(url)
    factory = WebSocketClientFactory(url)
    factory.protocol = ObservingClient
    factory.setProtocolOptions(failByDrop=True, openHandshakeTimeout=HANDSHAKE_WAIT,
                               closeHandshakeTimeout=CLOSE_WAIT, serverConnectionDropTimeout=1.0,
                               maxFramePayloadSize=0, maxMessagePayloadSize=0, autoPingInterval=0)
    try:
        _, client = await asyncio.get_running_loop().create_connection(factory, address.hostname, address.port)
    except OSError as error:
        return Result(case, FAIL, f"cannot connect: {error}", None, time.monotonic() - started)
    if not await client.wait_until(lambda: client.state != client.STATE_CONNECTING, HANDSHAKE_WAIT) or \
            client.state != client.STATE_OPEN:
        client.dropConnection(abort=True)
        return Result(case, FAIL, "the opening handshake did not complete", None, time.monotonic() - started)
    try:
        await asyncio.wait_for(converse(client, case), case.timeout)
    except asyncio.TimeoutError:
        pass  # judged below: the events are not the expected ones
    if case.closing.by_client and client.state == client.STATE_OPEN:
        client.transport.write(cat.encode_frame(cat.CLOSE, cat.close_payload(case.closing.codes[0])))
        client.closing_started()
    if not await client.wait_until(client.is_closed_now, CLOSE_WAIT):
        client.timed_out = True
        client.dropConnection(abort=True)
    outcome, note = judge(case, client)
    return Result(case, outcome, note, client.remoteCloseCode, time.monotonic() - started)


def judge(case: cat.Case, client: ObservingClient) -> tuple[str, str]:
    if case.informational:
        refusal = f"; the client refused the server's reply: {client.wasNotCleanReason}" if client.failedByMe else ""
        return INFO, f"got {summary(client.events)}; the server's close code: {client.remoteCloseCode}{refusal}"
    if client.failedByMe:
        return FAIL, f"the client failed the connection: {client.wasNotCleanReason}"
    if client.timed_out:
        return FAIL, f"the server did not close the connection within {CLOSE_WAIT:.0f} s"
    verdicts = [events_verdict(case, client.events), closing_verdict(case.closing, client)]
    if client.failed_late:
        verdicts.append((NON_STRICT, "the server failed the connection only after the whole message arrived"))
    return max(verdicts, key=lambda verdict: SEVERITY[verdict[0]])


def events_verdict(case: cat.Case, events: list[tuple]) -> tuple[str, str]:
    if events == case.expect:
        return PASS, ""
    outcome = NON_STRICT if events == case.non_strict else FAIL
    return outcome, f"got {summary(events)}; expected {summary(case.expect)}"


def closing_verdict(expected: cat.Closing, client: ObservingClient) -> tuple[str, str]:
    if client.closedByMe != expected.by_client:
        starter = "the client" if client.closedByMe else "the server"
        return FAIL, f"{starter} began closing, the case expects the other side to"
    if expected.clean and not client.wasClean and not client.wasServerConnectionDropTimeout:
        return FAIL, f"the closing handshake was not clean: {client.wasNotCleanReason}"
    if client.remoteCloseCode is not None and client.remoteCloseCode not in expected.codes:
        return FAIL, f"the server closed with code {client.remoteCloseCode}, expected {expected.codes} or none"
    if client.wasServerConnectionDropTimeout:
        return NON_STRICT, "the server left the TCP connection open after the closing handshake"
    return PASS, ""


def summary(events: list[tuple]) -> str:
    def one(event):
        kind = "pong" if event[0] == "pong" else "binary" if event[2] else "text"
        payload = event[1]
        shown = f" {payload.hex()}" if 0 < len(payload) <= 16 else ""
        return f"{kind} of {len(payload)} octets{shown}"

    if not events:
        return "nothing"
    if len(events) > 4:
        return f"{len(events)} events ({', '.join(one(e) for e in events[:2])}, ...)"
    return ", ".join(one(e) for e in events)


def print_result(result: Result):
    code = "" if result.close_code is None else result.close_code
    print(f"{result.outcome:<10} {result.case.id:<8} {code:>5} {result.seconds:7.2f} s  {result.case.description}")
    if result.note and result.outcome != PASS:
        print(f"{'':>10} {result.note}")


def print_summary(results: list[Result]):
    print()
    print(f"{'Section':<24}{PASS:>6}{NON_STRICT:>12}{INFO:>6}{FAIL:>6}")
    for number, title in cat.SECTIONS.items():
        counts = Counter(r.outcome for r in results if r.case.section == number)
        if counts:
            print(f"{f'{number} {title}':<24}{counts[PASS]:>6}{counts[NON_STRICT]:>12}{counts[INFO]:>6}"
                  f"{counts[FAIL]:>6}")
    totals = Counter(r.outcome for r in results)
    print(f"{len(results)} cases: {totals[PASS]} pass, {totals[NON_STRICT]} non-strict, {totals[INFO]} informational, "
          f"{totals[FAIL]} fail; {sum(r.seconds for r in results):.1f} s. Sections 12 and 13 (permessage-deflate) "
          "do not apply: the server negotiates no compression.")
    print(f"{totals[PASS] + totals[NON_STRICT]} passed, {totals[FAIL]} failed")


async def run_all(cases: list[cat.Case], url: str) -> list[Result]:
    results = []
    for case in cases:  # one at a time, as Autobahn runs them
        results.append(await run_case(case, url))
        print_result(results[-1])
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the echo endpoint, e.g. ws://127.0.0.1:8080/ws-echo")
    parser.add_argument("cases", nargs="*", default=["*"], help="case ids or patterns such as 6.4.* (default: all)")
    args = parser.parse_args()
    cases = [case for case in cat.all_cases() if any(fnmatch.fnmatchcase(case.id, p) for p in args.cases)]
    if not cases:
        print(f"fuzzing_client: no case matches {' '.join(args.cases)}", file=sys.stderr)
        return 2
    sys.stdout.reconfigure(line_buffering=True)  # progress shows while ctest waits
    results = asyncio.run(run_all(cases, args.url))
    print_summary(results)
    return 1 if any(result.outcome == FAIL for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""The server test cases of the Autobahn|Testsuite fuzzing client, sections 1-7, 9 and 10.

Written anew from the suite's published case list (its numbering, what each case sends and
which outcomes it accepts), because the suite itself installs only from PyPI or Docker,
neither of which this project may use. Sections 12 and 13 test permessage-deflate, which
Confab does not negotiate; Autobahn reports them as unimplemented for such servers.

A case is data: the frames the client writes (with their TCP chopping), the events it
must get back from an echo server (Pass, or a weaker Non-Strict list), and who must close
the connection with which code. fuzzing_client.py runs them.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0, 1, 2, 8, 9, 10

NORMAL, PROTOCOL_ERROR, INVALID_PAYLOAD = 1000, 1002, 1007


# ---------------------------------------------------------------------------
# Steps: what the client does, in order.


@dataclass(frozen=True)
class Send:
    """Frames written to the socket. Consecutive plain sends leave in one write (one chop);
    `flush` writes this send on its own, `chop` writes it in pieces of that many octets, and
    `fragment` splits the message into frames of that many payload octets."""

    opcode: int
    payload: bytes = b""
    fin: bool = True
    rsv: int = 0
    chop: int | None = None
    flush: bool = False
    fragment: int | None = None

    def encode(self) -> bytes:
        if self.fragment is None:
            return encode_frame(self.opcode, self.payload, self.fin, self.rsv)
        pieces = [self.payload[i:i + self.fragment] for i in range(0, len(self.payload), self.fragment)] or [b""]
        return b"".join(
            encode_frame(self.opcode if i == 0 else CONTINUATION, piece, i == len(pieces) - 1)
            for i, piece in enumerate(pieces))


@dataclass(frozen=True)
class SendClose:
    """A close frame with any payload, valid or not; the client has begun the closing handshake."""

    payload: bytes = b""


@dataclass(frozen=True)
class Raw:
    """Octets written as they are: part of a frame split at a chosen point."""

    data: bytes


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class FailFast:
    """The server should have failed the connection within `seconds` by now; if it fails only
    later, the case passes non-strictly (RFC 6455 8.1 lets it wait for the message's end)."""

    seconds: float = 1.0


@dataclass(frozen=True)
class RoundTrips:
    """`count` messages, each sent once the previous one came back (Autobahn's RTT cases)."""

    count: int
    opcode: int
    payload: bytes


def encode_frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0) -> bytes:
    """A client frame, masked as RFC 6455 5.3 requires."""
    first = (0x80 if fin else 0) | (rsv & 7) << 4 | opcode & 0x0F
    size = len(payload)
    if size <= 125:
        header = struct.pack("!BB", first, 0x80 | size)
    elif size <= 0xFFFF:
        header = struct.pack("!BBH", first, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, size)
    key = os.urandom(4)
    mask = (key * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(mask, "big")).to_bytes(size, "big")
    return header + key + masked


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


# ---------------------------------------------------------------------------
# Expectations.


def text(payload: bytes) -> tuple:
    return ("message", payload, False)


def binary(payload: bytes) -> tuple:
    return ("message", payload, True)


def pong(payload: bytes) -> tuple:
    return ("pong", payload)


@dataclass(frozen=True)
class Closing:
    """Who must start the closing handshake, the close codes the server may send (or none),
    and whether the handshake must complete cleanly."""

    by_client: bool
    codes: tuple[int, ...]
    clean: bool


# The client closes with 1000 once the expected events are in; the server answers cleanly.
CLIENT_CLOSES = Closing(by_client=True, codes=(NORMAL,), clean=True)


def server_fails(code: int) -> Closing:
    """The server must fail the connection (RFC 6455 7.1.7), with this code if it sends one."""
    return Closing(by_client=False, codes=(code,), clean=False)


def client_close_refused(*codes: int) -> Closing:
    """The client's close frame was itself invalid: the server answers with one of these codes
    or drops the connection."""
    return Closing(by_client=True, codes=codes, clean=False)


@dataclass(frozen=True)
class Case:
    id: str
    description: str
    steps: list
    expect: list = field(default_factory=list)
    non_strict: list | None = None
    closing: Closing = CLIENT_CLOSES
    informational: bool = False  # behaviour RFC 6455 leaves open: reported, never failed
    timeout: float = 10.0

    @property
    def section(self) -> int:
        return int(self.id.split(".")[0])


SECTIONS = {
    1: "Framing",
    2: "Pings/Pongs",
    3: "Reserved Bits",
    4: "Opcodes",
    5: "Fragmentation",
    6: "UTF-8 Handling",
    7: "Close Handling",
    9: "Limits/Performance",
    10: "Miscellaneous",
}

HELLO = b"Hello, world!"
SMALL_BINARY = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
KOSME = "\u03ba\u1f79\u03c3\u03bc\u03b5".encode()  # κόσμε, with the 3-octet U+1F79 as in Kuhn's file
INVALID_KOSME = KOSME + b"\xed\xa0\x80" + b"edited"  # a UTF-16 surrogate inside
SETTLE = 0.5  # how long to listen when nothing at all may come back


# ---------------------------------------------------------------------------
# Sections 1-5: framing, pings, reserved bits, opcodes, fragmentation.


def framing() -> list[Case]:
    cases = []
    for number, kind, opcode, fill, echo in ((1, "text", TEXT, b"*", text), (2, "binary", BINARY, b"\xfe", binary)):
        for i, size in enumerate((0, 125, 126, 127, 128, 65535, 65536), 1):
            payload = fill * size
            cases.append(Case(f"1.{number}.{i}", f"Send {kind} message with payload {size}.",
                              [Send(opcode, payload)], [echo(payload)]))
        payload = fill * 65536
        cases.append(Case(f"1.{number}.8", f"Send {kind} message with payload 65536, in chops of 997 octets.",
                          [Send(opcode, payload, chop=997)], [echo(payload)]))
    return cases


def pings() -> list[Case]:
    pings10 = [f"payload-{i}".encode() for i in range(10)]
    return [
        Case("2.1", "Send ping without payload.", [Send(PING)], [pong(b"")]),
        Case("2.2", "Send ping with small text payload.", [Send(PING, HELLO)], [pong(HELLO)]),
        Case("2.3", "Send ping with small binary (non UTF-8) payload.", [Send(PING, SMALL_BINARY)],
             [pong(SMALL_BINARY)]),
        Case("2.4", "Send ping with binary payload of 125 octets.", [Send(PING, b"\xfe" * 125)],
             [pong(b"\xfe" * 125)]),
        Case("2.5", "Send ping with binary payload of 126 octets.", [Send(PING, b"\xfe" * 126)],
             closing=server_fails(PROTOCOL_ERROR)),
        Case("2.6", "Send ping with binary payload of 125 octets, octet-wise chopped.",
             [Send(PING, b"\xfe" * 125, chop=1)], [pong(b"\xfe" * 125)]),
        Case("2.7", "Send unsolicited pong without payload.", [Send(PONG), Pause(SETTLE)]),
        Case("2.8", "Send unsolicited pong with payload.", [Send(PONG, b"unsolicited pong payload"), Pause(SETTLE)]),
        Case("2.9", "Send unsolicited pong with payload, then ping with payload.",
             [Send(PONG, b"unsolicited pong payload"), Send(PING, b"ping payload")], [pong(b"ping payload")]),
        # RFC 6455 5.5.3 lets a pong answer only the latest of several pings.
        Case("2.10", "Send 10 pings with payload.", [Send(PING, p) for p in pings10],
             [pong(p) for p in pings10], non_strict=[pong(pings10[-1])]),
        Case("2.11", "Send 10 pings with payload, octet-wise chopped.", [Send(PING, p, chop=1) for p in pings10],
             [pong(p) for p in pings10], non_strict=[pong(pings10[-1])]),
    ]


def after_a_good_message(bad: Send, chop: int | None = None, flush: bool = False) -> list:
    """A valid message, then `bad`, then a ping: the echo may come back before the failure or not."""
    return [Send(TEXT, HELLO, chop=chop, flush=flush), bad, Send(PING, chop=chop, flush=flush)]


def reserved_bits() -> list[Case]:
    fails = server_fails(PROTOCOL_ERROR)
    return [
        Case("3.1", "Send small text message with RSV = 1.", [Send(TEXT, HELLO, rsv=1)], closing=fails),
        Case("3.2", "Send small text message, then again with RSV = 2, then ping.",
             after_a_good_message(Send(TEXT, HELLO, rsv=2)), [text(HELLO)], [], fails),
        Case("3.3", "Send small text message, then again with RSV = 3, then ping, frame-wise.",
             after_a_good_message(Send(TEXT, HELLO, rsv=3, flush=True), flush=True), [text(HELLO)], [], fails),
        Case("3.4", "Send small text message, then again with RSV = 4, then ping, octet-wise chopped.",
             after_a_good_message(Send(TEXT, HELLO, rsv=4, chop=1), chop=1), [text(HELLO)], [], fails),
        Case("3.5", "Send small binary message with RSV = 5.", [Send(BINARY, SMALL_BINARY, rsv=5)], closing=fails),
        Case("3.6", "Send ping with RSV = 6.", [Send(PING, HELLO, rsv=6)], closing=fails),
        Case("3.7", "Send close with RSV = 7.", [Send(CLOSE, close_payload(NORMAL), rsv=7)], closing=fails),
    ]


def opcodes() -> list[Case]:
    fails = server_fails(PROTOCOL_ERROR)
    payload = b"reserved opcode payload"
    cases = []
    for group, kind, reserved in ((1, "non-control", (3, 4, 5, 6, 7)), (2, "control", (11, 12, 13, 14, 15))):
        for i, opcode in enumerate(reserved, 1):
            bad = Send(opcode, b"" if i in (1, 3) else payload)
            with_payload = " with payload" if bad.payload else ""
            if i <= 2:
                cases.append(Case(f"4.{group}.{i}", f"Send frame with reserved {kind} opcode {opcode}{with_payload}.",
                                  [bad], closing=fails))
            else:
                cases.append(Case(f"4.{group}.{i}",
                                  f"Send small text message, then frame with reserved {kind} opcode {opcode}"
                                  f"{with_payload}, then ping.",
                                  after_a_good_message(bad), [text(HELLO)], [], fails))
    return cases


def fragmentation() -> list[Case]:
    fails = server_fails(PROTOCOL_ERROR)
    both = text(b"fragment1fragment2")
    chopping = (("", {}), (", octet-wise chopped", {"chop": 1}), (", frame-wise", {"flush": True}))
    cases = [
        Case("5.1", "Send ping fragmented into 2 fragments.",
             [Send(PING, b"fragment1", fin=False), Send(CONTINUATION, b"fragment2")], closing=fails),
        Case("5.2", "Send pong fragmented into 2 fragments.",
             [Send(PONG, b"fragment1", fin=False), Send(CONTINUATION, b"fragment2")], closing=fails),
    ]
    for i, (how, options) in enumerate(chopping):
        cases.append(Case(f"5.{3 + i}", f"Send text message fragmented into 2 fragments{how}.",
                          [Send(TEXT, b"fragment1", fin=False, **options), Send(CONTINUATION, b"fragment2", **options)],
                          [both]))
    for i, (how, options) in enumerate(chopping):
        cases.append(Case(f"5.{6 + i}", f"Send text message fragmented into 2 fragments, a ping in between{how}.",
                          [Send(TEXT, b"fragment1", fin=False, **options), Send(PING, b"ping payload", **options),
                           Send(CONTINUATION, b"fragment2", **options)],
                          [pong(b"ping payload"), both]))
    for first, fin in ((9, True), (12, False)):
        for i, (how, options) in enumerate((("", {}), (", frame-wise", {"flush": True}),
                                            (", octet-wise chopped", {"chop": 1}))):
            cases.append(Case(f"5.{first + i}",
                              f"Send continuation frame with FIN = {fin} where there is nothing to continue, "
                              f"then unfragmented text message{how}.",
                              [Send(CONTINUATION, b"non-continuation payload", fin=fin, **options),
                               Send(TEXT, HELLO, **options)], closing=fails))
    f1, f2, f3, f4 = b"fragment1", b"fragment2", b"fragment3", b"fragment4"
    cases += [
        Case("5.15", "Send text message in 2 fragments, then continuation frame with FIN = false where there is "
             "nothing to continue, then unfragmented text message.",
             [Send(TEXT, f1, fin=False), Send(CONTINUATION, f2), Send(CONTINUATION, f3, fin=False), Send(TEXT, f4)],
             [both], [], fails),
        Case("5.16", "Twice: continuation frame with FIN = false where there is nothing to continue, then text "
             "message in 2 fragments.",
             2 * [Send(CONTINUATION, f1, fin=False), Send(TEXT, f2, fin=False), Send(CONTINUATION, f3)],
             closing=fails),
        Case("5.17", "Twice: continuation frame with FIN = true where there is nothing to continue, then text "
             "message in 2 fragments.",
             2 * [Send(CONTINUATION, f1), Send(TEXT, f2, fin=False), Send(CONTINUATION, f3)], closing=fails),
        Case("5.18", "Send text message in 2 fragments, both with opcode text.",
             [Send(TEXT, f1, fin=False), Send(TEXT, f2)], closing=fails),
    ]
    for number, flush in ((19, False), (20, True)):
        how = ", frame-wise" if flush else ""
        cases.append(Case(
            f"5.{number}", f"Send text message in 5 fragments with 2 pings in between and a 1 s pause{how}.",
            [Send(TEXT, b"fragment1", fin=False, flush=flush), Send(CONTINUATION, b"fragment2", fin=False, flush=flush),
             Send(PING, b"pongme 1!", flush=flush), Pause(1.0),
             Send(CONTINUATION, b"fragment3", fin=False, flush=flush),
             Send(CONTINUATION, b"fragment4", fin=False, flush=flush), Send(PING, b"pongme 2!", flush=flush),
             Send(CONTINUATION, b"fragment5", flush=flush)],
            [pong(b"pongme 1!"), pong(b"pongme 2!"), text(b"fragment1fragment2fragment3fragment4fragment5")]))
    return cases


# ---------------------------------------------------------------------------
# Section 6: UTF-8. The sequences follow Markus Kuhn's UTF-8 decoder capability and stress
# test, as Autobahn's do; whether each is valid is decided by Python's strict RFC 3629
# decoder (no surrogates, no overlong forms, nothing above U+10FFFF).


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8", errors="strict")
        return True
    except UnicodeDecodeError:
        return False


def surrogate(code_point: int) -> bytes:
    """The three octets a careless encoder writes for a UTF-16 surrogate (never valid UTF-8)."""
    return bytes([0xE0 | code_point >> 12, 0x80 | code_point >> 6 & 0x3F, 0x80 | code_point & 0x3F])


def utf8_sequences() -> list[tuple[str, list[bytes]]]:
    """Groups 6.5 to 6.23, each a title and its sequences."""
    h = bytes.fromhex
    missing_last = [h("c0"), h("e080"), h("f08080"), h("f8808080"), h("fc80808080"),
                    h("df"), h("efbf"), h("f7bfbf"), h("fbbfbfbf"), h("fdbfbfbfbf")]
    high = [0xD800, 0xDB7F, 0xDB80, 0xDBFF]
    low = [0xDC00, 0xDFFF]
    return [
        ("valid UTF-8 samples", [b"hello$world", "hello¢world".encode(), "hello€world".encode(),
                                 "hello\U00024B62world".encode(), KOSME]),
        ("growing prefixes of a valid sequence", [KOSME[:n] for n in range(1, len(KOSME) + 1)]),
        ("first possible sequence of 1 to 4 octets", [chr(c).encode() for c in (0x0, 0x80, 0x800, 0x10000)]),
        ("first possible sequence of 5 and 6 octets", [h("f888808080"), h("fc8480808080")]),
        ("last possible sequence of 1 to 4 octets", [chr(c).encode() for c in (0x7F, 0x7FF, 0xFFFF, 0x10FFFF)]),
        ("last possible sequence of 4 to 6 octets", [h("f7bfbfbf"), h("fbbfbfbfbf"), h("fdbfbfbfbfbf")]),
        ("other boundary conditions", [h("ed9fbf"), h("ee8080"), h("efbfbd"), h("f48fbfbf"), h("f4908080")]),
        ("unexpected continuation octets", [h("80"), h("bf"), h("80bf"), h("80bf80"), h("80bf80bf"),
                                            h("80bf80bf80"), h("80bf80bf80bf"), bytes(range(0x80, 0xC0))]),
        ("lonely start octets followed by a space",
         [b"".join(bytes([b, 0x20]) for b in range(first, end))
          for first, end in ((0xC0, 0xE0), (0xE0, 0xF0), (0xF0, 0xF8), (0xF8, 0xFC), (0xFC, 0xFE))]),
        ("sequences with the last continuation octet missing", missing_last),
        ("concatenation of incomplete sequences", [b"".join(missing_last)]),
        ("impossible octets", [h("fe"), h("ff"), h("fefeffff")]),
        ("overlong ASCII", [h("c0af"), h("e080af"), h("f08080af"), h("f8808080af"), h("fc80808080af")]),
        ("maximum overlong sequences", [h("c1bf"), h("e09fbf"), h("f08fbfbf"), h("f887bfbfbf"), h("fc83bfbfbfbf")]),
        ("overlong NUL", [h("c080"), h("e08080"), h("f0808080"), h("f880808080"), h("fc8080808080")]),
        ("single UTF-16 surrogates", [surrogate(c) for c in high + [0xDC00, 0xDF80, 0xDFFF]]),
        ("paired UTF-16 surrogates", [surrogate(a) + surrogate(b) for a in high for b in low]),
        ("noncharacters", [chr(plane << 16 | last).encode() for plane in range(17) for last in (0xFFFE, 0xFFFF)]),
        ("specials", [chr(c).encode() for c in range(0xFFF9, 0x10000)]),
    ]


def utf8_case(case_id: str, description: str, steps: list, payload: bytes) -> Case:
    if is_utf8(payload):
        return Case(case_id, description, steps, [text(payload)])
    return Case(case_id, description, steps, closing=server_fails(INVALID_PAYLOAD))


def utf8() -> list[Case]:
    hello = "Hello-µ@ßöäüàá-UTF-8!!".encode()
    boundary = len("Hello-µ@ß".encode())
    cases = [
        Case("6.1.1", "Send text message of length 0.", [Send(TEXT)], [text(b"")]),
        Case("6.1.2", "Send text message in 3 fragments, each of length 0.",
             [Send(TEXT, fin=False), Send(CONTINUATION, fin=False), Send(CONTINUATION)], [text(b"")]),
        Case("6.1.3", "Send text message in 3 fragments, first and last of length 0.",
             [Send(TEXT, fin=False), Send(CONTINUATION, b"middle frame payload", fin=False), Send(CONTINUATION)],
             [text(b"middle frame payload")]),
        Case("6.2.1", "Send valid UTF-8 text message in one fragment.", [Send(TEXT, hello)], [text(hello)]),
        Case("6.2.2", "Send valid UTF-8 text message in 2 fragments split on a code point boundary.",
             [Send(TEXT, hello[:boundary], fin=False), Send(CONTINUATION, hello[boundary:])], [text(hello)]),
        Case("6.2.3", "Send valid UTF-8 text message in fragments of 1 octet.",
             [Send(TEXT, hello, fragment=1)], [text(hello)]),
        Case("6.2.4", "Send valid UTF-8 text message (κόσμε) in fragments of 1 octet.",
             [Send(TEXT, KOSME, fragment=1)], [text(KOSME)]),
        utf8_case("6.3.1", "Send invalid UTF-8 text message unfragmented.", [Send(TEXT, INVALID_KOSME)],
                  INVALID_KOSME),
        utf8_case("6.3.2", "Send invalid UTF-8 text message in fragments of 1 octet.",
                  [Send(TEXT, INVALID_KOSME, fragment=1)], INVALID_KOSME),
    ]
    # 6.4: the middle part makes the message invalid; a server should fail before the rest.
    splits = ((KOSME, b"\xf4\x90\x80\x80", b"edited"), (KOSME + b"\xf4", b"\x90", b"\x80\x80edited"))
    for i, (first, middle, rest) in enumerate(splits, 1):
        cases.append(utf8_case(
            f"6.4.{i}", "Send invalid UTF-8 text message in 3 fragments; the 2nd makes it invalid.",
            [Send(TEXT, first, fin=False), Pause(SETTLE), Send(CONTINUATION, middle, fin=False), FailFast(),
             Send(CONTINUATION, rest)], first + middle + rest))
    for i, (first, middle, rest) in enumerate(splits, 3):
        whole = encode_frame(TEXT, first + middle + rest)
        cut = len(whole) - len(first + middle + rest) + len(first)
        cases.append(utf8_case(
            f"6.4.{i}", "Send invalid UTF-8 text message in one frame written in 3 chops; the 2nd makes it invalid.",
            [Raw(whole[:cut]), Pause(SETTLE), Raw(whole[cut:cut + len(middle)]), FailFast(),
             Raw(whole[cut + len(middle):])], first + middle + rest))
    for group, (title, sequences) in enumerate(utf8_sequences(), 5):
        for i, payload in enumerate(sequences, 1):
            validity = "valid" if is_utf8(payload) else "invalid"
            cases.append(utf8_case(f"6.{group}.{i}", f"Send text message with {validity} UTF-8 from {title}: "
                                   f"{payload[:16].hex()}{'...' if len(payload) > 16 else ''}.",
                                   [Send(TEXT, payload)], payload))
    return cases


# ---------------------------------------------------------------------------
# Section 7: closing.


def closing() -> list[Case]:
    hello = b"Hello World!"
    normal = SendClose(close_payload(NORMAL))
    cases = [
        Case("7.1.1", "Send a message followed by a close frame.", [Send(TEXT, hello), normal], [text(hello)]),
        Case("7.1.2", "Send two close frames.", [normal, normal]),
        Case("7.1.3", "Send a ping after the close frame.", [normal, Send(PING, hello)]),
        Case("7.1.4", "Send a text message after the close frame.", [normal, Send(TEXT, hello)]),
        Case("7.1.5", "Send a message fragment, a close frame, then the last fragment.",
             [Send(TEXT, b"fragment1", fin=False), normal, Send(CONTINUATION, b"fragment2")]),
        # Whether the echo of a message written back to back with the close goes out first is
        # the server's choice.
        Case("7.1.6", "Send a 256 KiB message followed by a close frame, then a ping.",
             [Send(TEXT, b"BAsd7&jh23" * 26214), normal, Send(PING, hello)], informational=True),
        Case("7.3.1", "Send close frame with payload length 0 (no code, no reason).", [SendClose()]),
        Case("7.3.2", "Send close frame with payload length 1.", [SendClose(b"a")],
             closing=client_close_refused(PROTOCOL_ERROR)),
        Case("7.3.3", "Send close frame with close code and no reason.", [normal]),
        Case("7.3.4", "Send close frame with close code and reason.", [SendClose(close_payload(NORMAL, hello))]),
        Case("7.3.5", "Send close frame with close code and a reason of the longest length (123).",
             [SendClose(close_payload(NORMAL, b"*" * 123))]),
        Case("7.3.6", "Send close frame with close code and a reason too long (124).",
             [SendClose(close_payload(NORMAL, b"*" * 124))], closing=client_close_refused(PROTOCOL_ERROR)),
        Case("7.5.1", "Send close frame with invalid UTF-8 in the reason.",
             [SendClose(close_payload(NORMAL, INVALID_KOSME))],
             closing=client_close_refused(PROTOCOL_ERROR, INVALID_PAYLOAD)),
    ]
    valid = (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999)
    for i, code in enumerate(valid, 1):
        cases.append(Case(f"7.7.{i}", f"Send close frame with valid close code {code}.",
                          [SendClose(close_payload(code))], closing=Closing(True, (NORMAL, code), True)))
    invalid = (0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999)
    for i, code in enumerate(invalid, 1):
        cases.append(Case(f"7.9.{i}", f"Send close frame with invalid close code {code}.",
                          [SendClose(close_payload(code))], closing=client_close_refused(PROTOCOL_ERROR)))
    # RFC 6455 7.4.2 defines codes up to 4999 only; what a server does with others is its choice.
    for i, code in enumerate((5000, 65535), 1):
        cases.append(Case(f"7.13.{i}", f"Send close frame with close code {code} (outside the registered ranges).",
                          [SendClose(close_payload(code))], informational=True))
    return cases


# ---------------------------------------------------------------------------
# Sections 9 and 10: large messages, many fragments, slow writes, many round trips.


def limits() -> list[Case]:
    cases = []
    kib, mib = 1 << 10, 1 << 20
    slow = 100.0
    for group, kind, opcode, fill, echo in ((1, "text", TEXT, b"*", text), (2, "binary", BINARY, b"\xfe", binary)):
        for i, size in enumerate((64 * kib, 256 * kib, mib, 4 * mib, 8 * mib, 16 * mib), 1):
            payload = fill * size
            cases.append(Case(f"9.{group}.{i}", f"Send {kind} message of {size} octets.",
                              [Send(opcode, payload)], [echo(payload)], timeout=slow))
        payload = fill * (4 * mib)
        for i, size in enumerate((64, 256, kib, 4 * kib, 16 * kib, 64 * kib, 256 * kib, mib, 4 * mib), 1):
            cases.append(Case(f"9.{group + 2}.{i}", f"Send {kind} message of 4 MiB in fragments of {size} octets.",
                              [Send(opcode, payload, fragment=size)], [echo(payload)], timeout=slow))
        payload = fill * mib
        for i, size in enumerate((64, 128, 256, 512, 1024, 2048), 1):
            cases.append(Case(f"9.{group + 4}.{i}", f"Send {kind} message of 1 MiB in chops of {size} octets.",
                              [Send(opcode, payload, chop=size)], [echo(payload)], timeout=slow))
        for i, size in enumerate((0, 16, 64, 256, 1024, 4096), 1):
            payload = fill * size
            cases.append(Case(f"9.{group + 6}.{i}", f"Send 1000 {kind} messages of {size} octets, one at a time.",
                              [RoundTrips(1000, opcode, payload)], 1000 * [echo(payload)], timeout=slow))
    return sorted(cases, key=lambda case: [int(part) for part in case.id.split(".")])


def miscellaneous() -> list[Case]:
    payload = b"*" * 65536
    return [Case("10.1.1", "Send text message of 65536 octets in fragments of 1300 octets.",
                 [Send(TEXT, payload, fragment=1300)], [text(payload)])]


def all_cases() -> list[Case]:
    return framing() + pings() + reserved_bits() + opcodes() + fragmentation() + utf8() + closing() + limits() + \
        miscellaneous()

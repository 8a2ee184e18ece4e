"""``inpaint-bridge send``: one OSC message to the daemon (or the Live script), and its replies printed."""

from __future__ import annotations

import argparse
import socket
import time
from collections.abc import Sequence

from bridge.cli.parsers import PROG, add_command
from bridge.config import Settings
from bridge.control.osc import decode_packet, encode_message
from bridge.errors import BadValue, OscDecodeError

__all__ = ["register", "parse_arg", "send"]


def parse_arg(text: str) -> int | float | str:
    """``3`` is an int, ``3.5`` or ``1e3`` a float, anything else a string."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if value == value and abs(value) != float("inf") else text


def send(address: str, args: Sequence[str], *, host: str, port: int, wait: float, follow: bool) -> int:
    """Send, print each reply as ``address arg ...``; exit 1 if any reply was an error."""
    if not address.startswith("/"):
        raise BadValue("address", address, "must start with '/' (for example /bridge/ping)")
    packet = encode_message(address, [parse_arg(a) for a in args])
    failed = False
    pending: set[str] = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1" if host in ("127.0.0.1", "localhost") else "", 0))
        try:
            sock.sendto(packet, (host, port))
        except OSError as exc:
            raise BadValue("--host", host, f"cannot send ({exc.strerror})") from exc
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0 and not (follow and pending):
                break
            sock.settimeout(max(0.05, left) if left > 0 else 1.0)
            try:
                data, _ = sock.recvfrom(65536)
            except TimeoutError:
                if follow and pending:
                    continue
                break
            except ConnectionRefusedError:
                print(f"no daemon at {host}:{port} (start one with: inpaint-bridge serve)")
                return 1
            try:
                messages = decode_packet(data)
            except OscDecodeError:
                continue
            for reply, params in messages:
                print(" ".join([reply, *(repr(p) if isinstance(p, str) else str(p) for p in params)]), flush=True)
                job = str(params[0]) if params else ""
                if reply == "/bridge/accepted":
                    pending.add(job)
                elif reply == "/live/error":
                    failed = True
                elif reply in ("/bridge/done", "/bridge/error") or (
                        reply == "/bridge/progress" and len(params) > 1 and params[1] == "cancelled"):
                    failed |= reply == "/bridge/error"
                    pending.discard(job)
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = add_command(
        sub, "send", _run, help="send one OSC message to the daemon and print the replies",
        description="Send ADDRESS with ARGs (numbers become int or float, the rest strings) and print every "
        "reply; with --follow, wait for the jobs it starts to finish.",
        examples=f"examples:\n  {PROG} send /bridge/ping\n"
        f"  {PROG} send /bridge/inpaint ~/take3.wav 12.4 12.75 '' --follow\n"
        f"  {PROG} send /bridge/inpaint ~/fx.wav 3 5 'glass shattering' engine fal variations 3 --follow")
    d.add_argument("address", metavar="ADDRESS")
    d.add_argument("args", nargs="*", metavar="ARG")
    d.add_argument("--host", default="127.0.0.1", help="daemon host (127.0.0.1)")
    d.add_argument("--port", type=int, default=9130, help="daemon port (9130)")
    d.add_argument("--wait", type=float, default=1.0, metavar="S", help="seconds to wait for replies (1)")
    d.add_argument("--follow", action="store_true", help="wait until every accepted job is done or failed")


def _run(args: argparse.Namespace, settings: Settings) -> int:
    return send(args.address, args.args, host=args.host, port=args.port, wait=args.wait, follow=args.follow)

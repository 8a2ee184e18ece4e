"""Another JACK client, run as its own process: sends MIDI into the daemon, prints the LEDs it sees.

usage: python midi_peer.py SEND [UNTIL_VALUE] [TIMEOUT]
SEND is ``;``-separated messages of hex bytes (``90 24 64;b0 46 7f``); the LED messages
received are printed as one JSON list once a message with value UNTIL_VALUE arrives.
"""

from __future__ import annotations

import json
import os
import sys
import time

import rtmidi

from bridge.cli.bench.jack import connected


def find(port: rtmidi.MidiIn | rtmidi.MidiOut, wanted: str, exclude: str | None = None) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for i, name in enumerate(port.get_ports()):
            if wanted in name and (exclude is None or exclude not in name):
                return i
        time.sleep(0.1)
    raise SystemExit(f"no port {wanted!r} among {port.get_ports()}")


def main() -> None:
    send = [[int(b, 16) for b in m.split()] for m in sys.argv[1].split(";") if m.strip()]
    until = int(sys.argv[2]) if len(sys.argv) > 2 else None
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
    seen: list[list[int]] = []
    leds = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "peer")
    if until is not None:
        leds.open_port(find(leds, "Inpaint Bridge LEDs"))
        leds.set_callback(lambda event, _: seen.append(list(event[0])))
    out = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, "peer")
    out.open_port(find(out, "Inpaint Bridge", exclude="LEDs"))
    # a connection takes effect once the server has it in its graph: wait for that, both ways
    server = os.environ.get("JACK_DEFAULT_SERVER", "default")
    if not connected(server, "peer", "Inpaint Bridge") or (
            until is not None and not connected(server, "Inpaint Bridge LEDs", "peer")):
        raise SystemExit("the MIDI connections did not appear in jack_lsp")
    for message in send:
        out.send_message(message)
        time.sleep(0.05)
    deadline = time.monotonic() + timeout
    while until is not None and time.monotonic() < deadline and not any(m[-1] == until for m in seen):
        time.sleep(0.05)
    print(json.dumps(seen), flush=True)
    out.close_port()
    leds.close_port()


if __name__ == "__main__":
    main()

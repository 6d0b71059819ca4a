#!/usr/bin/python3
"""Follows skyd's events without ever missing or repeating one.

    SKYD_HOME=~/.skyd docs/examples/subscriber.py [--since SEQ] [--topic PREFIX]
                              [--until-idle SECONDS] [--quiet-limit SECONDS]

Prints one JSON line per event: {"seq", "time", "kind", "entity", "fields"}.

It follows through the control socket's `events` verb, which is
flow-controlled (credit) and never drops, rather than through the PUB socket,
which drops events for slow subscribers. It remembers the last `seq` it
printed; when skyd goes away (a restart, a crash) it reconnects and asks for
events after that seq, so a restart costs neither a gap nor a duplicate.

Needs only Debian's python3-zmq and python3-msgpack. The protocol is in
docs/PROTOCOL.md; the events and their fields are in docs/EVENTS.md.
"""

import argparse
import json
import os
import sys
import time

import msgpack
import zmq

WINDOW = 64  # frames skyd may send before we grant more credit


def endpoint(home):
    return "ipc://" + os.path.join(home, "run", "control.sock")


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


class Follower:
    """One connection following events after `since`; raises ConnectionError
    when skyd stops answering."""

    def __init__(self, ctx, home, since, topic, quiet_limit):
        self.quiet_limit = quiet_limit
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint(home))
        self.stream = 1
        self.consumed = 0
        request = {"since": since, "topic": topic, "follow": True,
                   "window": WINDOW}
        self.sock.send_multipart(
            [pack({"v": 1, "id": self.stream, "verb": "events"}),
             pack(request)])

    def close(self):
        self.sock.close(0)

    def batches(self, until_idle, activity):
        """Yields lists of events. Stops after `until_idle` seconds without
        an event (None: never), counted across reconnections through
        activity["last_event"]."""
        last_frame = time.monotonic()
        while True:
            if self.sock.poll(500) == 0:
                now = time.monotonic()
                idle = now - activity["last_event"]
                if until_idle is not None and idle > until_idle:
                    return
                if now - last_frame > self.quiet_limit:
                    raise ConnectionError("skyd sent nothing, not even a "
                                          "heartbeat")
                continue
            envelope, body = self.sock.recv_multipart()
            env = msgpack.unpackb(envelope, raw=False)
            last_frame = time.monotonic()
            if env.get("id") != self.stream:
                continue
            status = env.get("status")
            if status == "error":
                err = msgpack.unpackb(body, raw=False)
                raise RuntimeError("skyd: {} ({})".format(
                    err.get("message"), err.get("code")))
            frame = msgpack.unpackb(body, raw=False)
            if frame is None:
                continue  # heartbeat: uses no credit
            self.consumed += 1
            if self.consumed >= WINDOW // 2:
                self.sock.send_multipart(
                    [pack({"v": 1, "id": 0, "verb": "credit"}),
                     pack({"stream": self.stream, "n": self.consumed})])
                self.consumed = 0
            events = frame.get("events", [])
            if events:
                activity["last_event"] = time.monotonic()
            yield events
            if status == "ok":
                raise ConnectionError("skyd ended the stream")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", type=int, default=0,
                        help="print events after this seq (default: all)")
    parser.add_argument("--topic", default="",
                        help="only entities starting with this prefix")
    parser.add_argument("--until-idle", type=float, default=None,
                        help="exit after this many seconds without events")
    parser.add_argument("--quiet-limit", type=float, default=12.0,
                        help="reconnect after this many seconds without a "
                             "frame (skyd sends a heartbeat every 5 s)")
    args = parser.parse_args()
    home = os.environ.get("SKYD_HOME", os.path.expanduser("~/.skyd"))
    ctx = zmq.Context()
    last_seq = args.since
    activity = {"last_event": time.monotonic()}
    while True:
        follower = Follower(ctx, home, last_seq, args.topic,
                            args.quiet_limit)
        try:
            for events in follower.batches(args.until_idle, activity):
                for ev in events:
                    if ev["seq"] <= last_seq:
                        continue  # never print one twice
                    last_seq = ev["seq"]
                    fields = ev.get("fields") or {}
                    print(json.dumps({
                        "seq": ev["seq"], "time": ev["time"],
                        "kind": ev["kind"], "entity": ev["entity"],
                        "fields": fields}, default=repr), flush=True)
            return 0
        except ConnectionError as gone:
            print("subscriber: {}; reconnecting after seq {}".format(
                gone, last_seq), file=sys.stderr, flush=True)
            time.sleep(0.5)
        finally:
            follower.close()


if __name__ == "__main__":
    sys.exit(main())

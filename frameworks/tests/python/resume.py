"""Reads an endless SSE stream with httpx + httpx-sse in two connections, the second one
resuming from the first's last event id, as a reconnecting EventSource does.

Usage: resume.py URL COUNT

Reads COUNT events, closes the connection, reconnects with `Last-Event-ID` set to the id
of the last event read, reads COUNT more, and prints each event as one JSON line
{"connection", "event", "data", "id"}. Blocks without `data:` (the `retry` hint, which
httpx-sse 0.4 yields as an event with empty data) are not counted. Exits non-zero on an
HTTP error or a wrong content type. Run by frameworks/tests/servers.rs.
"""

import json
import sys

import httpx
from httpx_sse import connect_sse


def read(client: httpx.Client, url: str, count: int, last_id: str, connection: int) -> str:
    headers = {"Last-Event-ID": last_id} if last_id else {}
    with connect_sse(client, "GET", url, headers=headers) as source:
        source.response.raise_for_status()
        for sse in source.iter_sse():  # checks the content type first
            if not sse.data:
                continue
            line = {"connection": connection, "event": sse.event, "data": sse.data, "id": sse.id}
            print(json.dumps(line), flush=True)
            last_id = sse.id
            count -= 1
            if count == 0:
                return last_id  # leaving the block closes the connection
    raise SystemExit(f"the stream ended before {count} more events")


def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    timeout = httpx.Timeout(10.0)  # connect, and each read: events come much sooner
    with httpx.Client(timeout=timeout) as client:
        last_id = read(client, url, count, "", 1)
        read(client, url, count, last_id, 2)


if __name__ == "__main__":
    main()

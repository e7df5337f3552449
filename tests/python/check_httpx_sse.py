"""Reads an SSE stream with httpx + httpx-sse and prints each event as one JSON line.

Usage: check_httpx_sse.py URL

Prints {"event", "data", "id", "retry"} per event, as httpx-sse yields them, until the
server ends the stream; exits non-zero on an HTTP error or a wrong content type. Run by
tests/clients.rs, which compares the lines with sse_pump::decode_reader's events.
"""

import json
import sys

import httpx
from httpx_sse import connect_sse


def main() -> None:
    url = sys.argv[1]
    timeout = httpx.Timeout(10.0)  # connect, and each read: the test's stream ends sooner
    with httpx.Client(timeout=timeout) as client:
        with connect_sse(client, "GET", url) as source:
            source.response.raise_for_status()
            for sse in source.iter_sse():  # checks the content type first
                line = {"event": sse.event, "data": sse.data, "id": sse.id, "retry": sse.retry}
                print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()

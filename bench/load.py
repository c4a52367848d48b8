"""Closed-loop HTTP load from a separate process: N clients, each one keep-alive connection.

Usage (as a module): ``python -m bench.load URL_JSON`` where the JSON names a scenario:
{"method", "path", "headers", "body", "clients", "seconds", "host", "port"}; prints a JSON
result with requests/s and latency percentiles. A request that is not 2xx counts as an error.

``paths`` instead of ``path`` gives each client its own object (client n uses paths[n]).
``versioned`` makes each client carry the object's ``version`` as a real client would: it
reads the object once before the clock starts, then sends the version from each response.
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def run(spec: dict) -> dict:
    stop_at = time.perf_counter() + spec["seconds"]
    latencies: list[list[float]] = [[] for _ in range(spec["clients"])]
    errors = [0] * spec["clients"]
    body = spec.get("body")
    payload = json.dumps(body).encode() if body is not None else None

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(spec["host"], spec["port"], timeout=30)
        path = spec["paths"][n % len(spec["paths"])] if spec.get("paths") else spec["path"]
        headers = spec.get("headers", {})
        version = None
        if spec.get("versioned"):
            conn.request("GET", path, headers=headers)
            version = json.loads(conn.getresponse().read())["version"]
        flip = 0
        while time.perf_counter() < stop_at:
            data = payload
            if spec.get("toggle"):  # alternate between two bodies (e.g. status back and forth)
                body = dict(spec["toggle"][flip % 2])
                if version is not None:
                    body["version"] = version
                data = json.dumps(body).encode()
                flip += 1
            started = time.perf_counter()
            try:
                conn.request(spec["method"], path, body=data, headers=headers)
                response = conn.getresponse()
                content = response.read()
                ok = 200 <= response.status < 300
                if version is not None and response.status == 200:
                    version = json.loads(content)["version"]
                elif version is not None and response.status == 409:  # someone else wrote
                    version = json.loads(content)["current"]["version"]
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(spec["host"], spec["port"], timeout=30)
            latencies[n].append(time.perf_counter() - started)
            if not ok:
                errors[n] += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(spec["clients"])]
    begun = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begun
    flat = [value for chunk in latencies for value in chunk]
    return {
        "requests": len(flat),
        "errors": sum(errors),
        "rps": len(flat) / elapsed,
        "p50_ms": percentile(flat, 0.50) * 1000,
        "p95_ms": percentile(flat, 0.95) * 1000,
        "p99_ms": percentile(flat, 0.99) * 1000,
        "mean_ms": (statistics.fmean(flat) * 1000) if flat else 0.0,
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))

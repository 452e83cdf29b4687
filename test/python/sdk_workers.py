"""The real ClearML SDK (clearml 2.1.12) against a server: every workers call the SDK has.

Configured only by the environment, no clearml.conf (see README.md beside this file):
  CLEARML_API_HOST, CLEARML_API_ACCESS_KEY, CLEARML_API_SECRET_KEY  where and as whom
  HOME=<an empty temporary directory>                              so no ~/clearml.conf is read

Prints one JSON object per line, per call, for a test to assert:
  {"call": "workers.get_all", "ok": true, "data": {...}}
  {"call": "workers.register", "ok": false, "code": 403, "subcode": 0, "message": "..."}
  {"call": "auth.login", "ok": false, "error": "LoginError: Failed getting token (error 401 from ...): ..."}
Exits 0 when every call succeeded, 1 at the first that failed (after printing it).

Usage: python sdk_workers.py [--worker ID] [--queue NAME]
"""

import argparse
import json
import sys
import time

from clearml.backend_api.session.client import APIClient, APIError
from clearml.backend_api.session.session import Session


def emit(call, **fields):
    # The SDK parses date fields (last_activity_time, ...) into datetimes: print them as ISO 8601.
    print(json.dumps({"call": call, **fields}, sort_keys=True, default=lambda o: o.isoformat()), flush=True)


def fail(call, error):
    if isinstance(error, APIError):
        emit(call, ok=False, code=error.code, subcode=error.subcode, message=error.message)
    else:
        emit(call, ok=False, error=f"{type(error).__name__}: {error}")
    sys.exit(1)


def data_of(response):
    """What the SDK parsed from `data`, as plain JSON (its typed models, not the raw body)."""
    if isinstance(response.response, list):  # get_all: a TableResponse of entities
        return [entity.data.to_dict() for entity in response.response]
    return response.response.to_dict() if response.response is not None else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", default="sdk-test-worker")
    parser.add_argument("--queue", default="default")
    args = parser.parse_args()

    try:
        # Logs in (auth.login with Basic credentials) and reads api_version from the token.
        client = APIClient()
    except Exception as error:  # noqa: BLE001 - the SDK raises several kinds at login
        fail("auth.login", error)
    emit(
        "auth.login",
        ok=True,
        api_version=Session.api_version,
        server_version=Session.server_version,
        feature_set=Session.feature_set,
    )

    now = time.time()
    calls = [
        ("workers.register", lambda: client.workers.register(worker=args.worker, queues=[args.queue])),
        (
            "workers.status_report",
            lambda: client.workers.status_report(
                worker=args.worker,
                timestamp=int(now * 1000),
                machine_stats={
                    "cpu_usage": [12.5, 37.5],
                    "memory_used": 1024,
                    "memory_free": 3072,
                    "gpu_usage": [80.0],
                    "disk_free_home": 50,
                },
            ),
        ),
        ("workers.get_all", lambda: client.workers.get_all(last_seen=600)),
        ("workers.get_metric_keys", lambda: client.workers.get_metric_keys(worker_ids=[args.worker])),
        (
            "workers.get_stats",
            lambda: client.workers.get_stats(
                worker_ids=[args.worker],
                from_date=now - 600,
                to_date=now + 60,
                interval=60,
                items=[
                    {"key": "cpu_usage", "category": "avg"},
                    {"key": "memory_used", "category": "max"},
                ],
            ),
        ),
        (
            "workers.get_activity_report",
            lambda: client.workers.get_activity_report(from_date=now - 600, to_date=now + 60, interval=60),
        ),
        ("workers.unregister", lambda: client.workers.unregister(worker=args.worker)),
    ]
    for call, send in calls:
        try:
            emit(call, ok=True, data=data_of(send()))
        except Exception as error:  # noqa: BLE001 - report whatever the SDK raised
            fail(call, error)


if __name__ == "__main__":
    main()

"""schemathesis against the partner API's own OpenAPI document, over real TLS with a partner's
client certificate: generated requests for every operation, and no server error (5xx) for any
of them; the responses conform to the document where it describes them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from tests.conftest import Door

pytestmark = pytest.mark.broker

OPERATIONS = {
    ("POST", "/v1/berichten"),
    ("GET", "/v1/berichten"),
    ("POST", "/v1/berichten/{bericht_id}/afleverbevestiging"),
    ("GET", "/v1/berichten/{bericht_id}/status"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),
}


def test_the_openapi_document_describes_every_operation(door: Door) -> None:
    document: dict[str, Any] = door.asgi.openapi()
    found = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    assert found == OPERATIONS
    post = document["paths"]["/v1/berichten"]["post"]
    assert "application/xml" in post["requestBody"]["content"]
    assert {"202", "400", "401", "403", "409", "413", "415", "422", "429", "503"} <= set(
        post["responses"]
    )


async def test_schemathesis_finds_no_server_error(door: Door) -> None:
    schema = schemathesis.openapi.from_dict(door.asgi.openapi())
    session = requests.Session()
    session.cert = door.pki.client_cert("politie")
    session.verify = str(door.pki.files.ca)
    door.asgi.state.limiter.per_second = 1e9  # generated bursts are not what is tested here
    door.asgi.state.limiter.burst = 1e9
    failures: list[str] = []
    tried: list[str] = []

    def run_all() -> None:
        for result in schema.get_all_operations():
            operation = result.ok()

            @given(case=operation.as_strategy())
            @settings(
                max_examples=25,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                response = case.call(
                    base_url=door.base_url,
                    session=session,
                    timeout=30,
                    verify=str(door.pki.files.ca),
                    cert=door.pki.client_cert("politie"),
                )
                tried.append(f"{case.method} {case.path} -> {response.status_code}")
                try:
                    case.validate_response(
                        response, checks=[not_a_server_error, status_code_conformance]
                    )
                except Exception as exc:  # noqa: BLE001 - collect every failure with its request
                    failures.append(f"{case.method} {case.formatted_path}: {exc}")

            check()

    await asyncio.to_thread(run_all)
    assert failures == []
    assert len({t.split(" -> ")[0].split(" ")[0] + " " for t in tried}) >= 2
    assert len(tried) >= 50

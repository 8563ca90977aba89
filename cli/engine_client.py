"""Talking to a running engine's control API from the CLI: one call, one line on failure.

The token comes from the settings (or the engine's token file); an engine that is not running,
a refusal or a timeout all become a one-line `UserError`.
"""

from __future__ import annotations

from typing import Any

import httpx

from ringcast.errors import UserError
from ringcast.settings import Settings

TIMEOUT_S = 45.0  # an agent login waits for the phone to answer


def call_engine(settings: Settings, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """`method` `path` on the engine's API; the decoded JSON answer."""
    headers = {"Authorization": f"Bearer {settings.api_token()}"}
    try:
        response = httpx.request(
            method, settings.api_url + path, json=body, headers=headers, timeout=TIMEOUT_S
        )
    except httpx.ConnectError:
        raise UserError(
            f"the engine is not running at {settings.api_url}", hint="start it with `ringcast serve`"
        ) from None
    except httpx.TimeoutException:
        raise UserError(f"the engine did not answer {method} {path} within {TIMEOUT_S:.0f}s") from None
    if response.status_code >= 400:
        try:
            message = response.json().get("error", response.text)
        except ValueError:
            message = response.text
        raise UserError(str(message))
    return response.json()


def engine_running(settings: Settings) -> bool:
    try:
        call_engine(settings, "GET", "/health")
    except UserError:
        return False
    return True

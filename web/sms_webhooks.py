"""The SMS webhooks of the engine's API: delivery receipts (DLR) and customer replies (MO) (SMS-5, SMS-6).

`POST /webhooks/sms/{provider}/{secret}/dlr` and `.../mo`: the provider's own body (JSON or form,
as its adapter expects) with the provider's `webhook_secret` in the path, since providers cannot
send the control API's bearer token. A wrong secret or unknown provider is a 403, a body the
adapter cannot read a 400 (the provider retries or drops it; nothing is half-stored).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from sms.providers.base import WebhookRequest
from sms.service import SmsService, WebhookRefused


async def _parsed(request: Request) -> WebhookRequest:
    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    form: dict[str, str] = {}
    document: Any = None
    if kind == "application/x-www-form-urlencoded":
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    elif body:
        try:
            document = json.loads(body)
        except ValueError:
            document = None
    return WebhookRequest(method=request.method, query=dict(request.query_params), form=form, json=document)


def sms_webhooks(service: SmsService) -> APIRouter:
    router = APIRouter(prefix="/webhooks/sms")

    async def handle(kind: str, provider: str, secret: str, request: Request) -> JSONResponse:
        parsed = await _parsed(request)
        try:
            if kind == "dlr":
                applied = await service.receipts(provider, secret, parsed)
                return JSONResponse({"ok": True, "applied": applied})
            outcomes = await service.replies(provider, secret, parsed)
        except WebhookRefused as refused:
            return JSONResponse({"error": refused.message}, status_code=403)
        except ValueError as bad:
            return JSONResponse({"error": str(bad)}, status_code=400)
        opted_out = [outcome.from_e164 for outcome in outcomes if outcome.opt_out_keyword is not None]
        return JSONResponse({"ok": True, "replies": len(outcomes), "opted_out": opted_out})

    @router.post("/{provider}/{secret}/dlr")
    async def receipts(provider: str, secret: str, request: Request) -> JSONResponse:
        return await handle("dlr", provider, secret, request)

    @router.post("/{provider}/{secret}/mo")
    async def replies(provider: str, secret: str, request: Request) -> JSONResponse:
        return await handle("mo", provider, secret, request)

    return router

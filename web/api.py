"""The engine's local control API (FastAPI on 127.0.0.1): what the CLI, agents and the web console call.

Every request carries `Authorization: Bearer <token>` (the settings' token, else the one kept in
the data directory); the token is compared in constant time and never logged. `GET
/agents/NAME/events` is a stream (Server-Sent Events) of the agent's screen pops, resumed where a
client left it by `Last-Event-ID`; `PUT /agents/NAME/calls/CALL/customer` saves the customer
record the agent filled in for an inbound caller. Errors a user can fix (unknown agent, illegal
state change, refused dial, a call not the agent's) come back as `{"error": "one line"}` with
status 409; a body that is not JSON or not the request's shape with 422, the same way; a missing
or wrong token with 401. The SMS webhooks (`web.sms_webhooks`), when the engine sends SMS, take no
token: providers prove themselves by the secret in the URL.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel

from campaigns import control_store, customer_records
from campaigns.customer_records import CustomerRecord
from dialer.agents.call_controls import TARGETED, Control, parse_target
from dialer.live import campaign_view
from dialer.live.screen_pop import MISSED, STATE, ScreenEvent
from dialer.live.service import LiveDialer
from ringcast.errors import UserError
from sms.service import SmsService
from web.sms_webhooks import sms_webhooks
from web.voicemail_api import voicemail_routes


class LoginBody(BaseModel):
    campaign: str | None = None
    inbound_only: bool = False  # no campaign: the agent takes inbound calls only


class PauseBody(BaseModel):
    reason: str


class SmsBody(BaseModel):
    text: str


class CallBody(BaseModel):
    number: str  # E.164, or national in the engine's default region


class TargetBody(BaseModel):
    to: str  # agent:NAME, queue:NAME, flow:NAME or number:NUMBER


class DispositionBody(BaseModel):
    code: str
    callback_at: datetime | None = None  # a callback the customer asked for (AGT-4), aware
    mine: bool = False  # the callback waits for this agent (CB-1), else any agent of the campaign
    ready: bool = True


def create_app(dialer: LiveDialer, token: str, sms: SmsService | None = None) -> FastAPI:
    def authorised(request: Request) -> None:
        given = request.headers.get("authorization", "")
        if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise HTTPException(status_code=401, detail="missing or wrong API token")

    app = FastAPI(title="ringcast control API")
    control = APIRouter(dependencies=[Depends(authorised)])

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"error": str(exc)})

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"error": str(exc.detail)})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"error": one_line(exc.errors())})

    @control.get("/health")
    async def health() -> dict[str, Any]:
        return {"ok": True, "ami_up": dialer.ami.up.is_set(), "campaigns": len(dialer.runners)}

    @control.get("/agents")
    async def agents() -> list[dict[str, Any]]:
        return dialer.agents.all()

    @control.get("/agents/{name}")
    async def agent(name: str) -> dict[str, Any]:
        for status in dialer.agents.all():
            if status.get("agent") == name:
                return status
        return {"agent": name, "state": "logged_out"}

    @control.get("/agents/{name}/events", response_class=EventSourceResponse)
    async def agent_events(
        name: str, last_event_id: Annotated[str | None, Header()] = None
    ) -> AsyncIterator[ServerSentEvent]:
        """The agent's screen pops (AGT-3), from now until the client goes or the engine stops:
        first its state now, then each event as it happens; a client coming back (`Last-Event-ID`)
        first gets the events it missed, or its state now and `missed` when they are not all kept
        (`docs/inbound.md`, "Screen pop")."""
        feed = dialer.screen
        with feed.reader(name, last_event_id or None) as subscription:
            if not last_event_id or subscription.missed:
                at = datetime.now(UTC)
                yield unnumbered(ScreenEvent(0, STATE, name, at, feed.current(name)))
                if subscription.missed:
                    yield unnumbered(ScreenEvent(0, MISSED, name, at, {"after": last_event_id}))
            async for event in subscription:
                yield ServerSentEvent(data=event.as_json(), event=event.kind, id=str(event.seq))

    @control.post("/agents/{name}/login")
    async def login(name: str, body: LoginBody) -> dict[str, Any]:
        return await dialer.agents.login(name, body.campaign, inbound_only=body.inbound_only)

    @control.post("/agents/{name}/logout")
    async def logout(name: str) -> dict[str, Any]:
        return await dialer.agents.logout(name)

    @control.post("/agents/{name}/ready")
    async def ready(name: str) -> dict[str, Any]:
        return await dialer.agents.ready(name)

    @control.post("/agents/{name}/pause")
    async def pause(name: str, body: PauseBody) -> dict[str, Any]:
        return await dialer.agents.pause(name, body.reason)

    @control.post("/agents/{name}/hangup")
    async def hangup(name: str) -> dict[str, Any]:
        return await dialer.agents.hangup(name)

    def plain_control(what: Control) -> Callable[[str], Awaitable[dict[str, Any]]]:
        async def route(name: str) -> dict[str, Any]:
            return await dialer.controls.control(name, what)

        return route

    def targeted_control(what: Control) -> Callable[[str, TargetBody], Awaitable[dict[str, Any]]]:
        async def route(name: str, body: TargetBody) -> dict[str, Any]:
            return await dialer.controls.control(name, what, parse_target(body.to))

        return route

    for what in Control:  # in-call controls (AGT-4): hold, resume, conference, complete, cancel, (un)mute
        route = targeted_control(what) if what in TARGETED else plain_control(what)  # TARGETED: {"to": ...}
        control.add_api_route(f"/agents/{{name}}/{what.value}", route, methods=["POST"])

    @control.get("/calls/{call}/controls")
    async def call_controls(call: str) -> list[dict[str, Any]]:
        return await dialer.db.run(control_store.controls_of, dialer.database, call)

    @control.post("/agents/{name}/disposition")
    async def disposition(name: str, body: DispositionBody) -> dict[str, Any]:
        return await dialer.agents.dispose(name, body.code, body.callback_at, body.ready, body.mine)

    @control.post("/agents/{name}/preview")
    async def preview(name: str) -> dict[str, Any]:
        return await dialer.agents.preview(name)

    @control.post("/agents/{name}/preview/dial")
    async def dial_preview(name: str) -> dict[str, Any]:
        return await dialer.agents.dial_preview(name)

    @control.post("/agents/{name}/preview/skip")
    async def skip_preview(name: str) -> dict[str, Any]:
        return await dialer.agents.skip(name)

    @control.post("/agents/{name}/call")
    async def click_to_call(name: str, body: CallBody) -> dict[str, Any]:
        return await dialer.agents.click_to_call(name, body.number)

    @control.post("/agents/{name}/sms")
    async def customer_sms(name: str, body: SmsBody) -> dict[str, Any]:
        """An SMS to the customer on the agent's screen (AGT-4, SMS-4), through the outbox."""
        if sms is None:
            raise UserError("this engine sends no SMS", hint="configure sms.providers.<name>")
        attempt_id = dialer.agents.customer_attempt(name)
        queued = await sms.send_to_customer(attempt_id, body.text, f"agent:{name}")
        if queued.reason is not None:
            raise UserError(f"SMS to {queued.to} not sent ({queued.reason}): {queued.error}")
        return {
            "sms_id": queued.id,
            "to": queued.to,
            "state": queued.state.value,
            "segments": queued.segments,
        }

    @control.put("/agents/{name}/calls/{call}/customer")
    async def save_customer(name: str, call: str, record: CustomerRecord) -> dict[str, Any]:
        """The customer record the agent filled in for the caller of an inbound call it answered
        (`campaigns.customer_records`): the next call from that number shows it."""
        at = datetime.now(UTC)
        return await dialer.db.run(customer_records.save_for_call, dialer.database, name, call, record, at)

    @control.get("/campaigns/{name}/status")
    async def campaign_status(name: str) -> dict[str, Any]:
        return campaign_view.campaign_status(dialer, name)

    @control.get("/campaigns/{name}/why")
    async def campaign_why(name: str) -> dict[str, Any]:
        return await campaign_view.why(dialer, name)

    control.include_router(voicemail_routes(dialer))  # GET /agents/NAME/voicemail, mark heard (IVR-4)
    app.include_router(control)
    if sms is not None:
        app.include_router(sms_webhooks(sms))
    return app


def unnumbered(event: ScreenEvent) -> ServerSentEvent:
    """An event said to one reader alone (its state now, `missed`): no `id`, so that the client's
    `Last-Event-ID` stays the last published event it had."""
    return ServerSentEvent(data=event.as_json(), event=event.kind)


def one_line(errors: Sequence[Any]) -> str:
    """What is wrong with a request, in one line: its first error, where it is, and how many more."""
    first = errors[0]
    source, *path = first["loc"]  # "body", then the field's keys (a JSON error's: a character offset)
    where = source if first["type"] == "json_invalid" or not path else ".".join(map(str, path))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"

"""The AMI link: the only place ringcast speaks the Asterisk Manager Interface (over panoramisk).

It logs in, reconnects with exponential back-off (the `up` flag tells the engine whether
it may send), turns AMI messages into typed events (`dialer.asterisk.events`) delivered
to subscribers strictly in arrival order, and offers the actions ringcast uses.

panoramisk pitfalls closed here, each covered by a test:
- `Originate` always carries `Async` explicitly (panoramisk raises KeyError otherwise)
  and completes on Asterisk's "queued" response; the call's outcome arrives later as an
  `OriginateFinished` event matched by ActionID. `ChannelId` is always set, so a call
  can be found (CoreShowChannels) even when the response was lost.
- Actions have a timeout (`AmiTimeout`); a timed-out action is forgotten so a late
  response cannot complete it.
- After a reconnect panoramisk re-sends actions that got no response, which could place
  an Originate twice. Here nothing is ever re-sent: actions in flight when the link drops
  fail with `AmiLinkDown` and the caller reconciles.
- panoramisk runs coroutine callbacks as independent tasks, which reorders events. Here
  one consumer task delivers events in order, awaiting each subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from panoramisk import Manager
from panoramisk.actions import Action

from dialer.asterisk.events import AmiEvent, LinkDown, LinkUp, parse_event
from ringcast.errors import UserError
from ringcast.settings import Settings

log = logging.getLogger(__name__)

Subscriber = Callable[[AmiEvent], Awaitable[None] | None]


class AmiError(Exception):
    """An AMI action failed or could not be sent."""


class AmiTimeout(AmiError):
    """No response within the action timeout."""


class AmiLinkDown(AmiError):
    """The link is down (or dropped while the action was in flight); it was not re-sent."""


@dataclass(frozen=True, slots=True)
class AmiEndpoint:
    """Where and how to log in; the secret never appears in repr or logs."""

    host: str
    port: int
    username: str
    secret: str = field(repr=False)
    action_timeout_s: float = 5.0
    connect_timeout_s: float = 5.0
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 10.0


def endpoint_from_settings(settings: Settings) -> AmiEndpoint:
    """The AMI endpoint configured in `settings` (secret resolved: configured, else the lab's)."""
    ami = settings.ami
    return AmiEndpoint(
        host=ami.host,
        port=ami.port,
        username=ami.username,
        secret=settings.ami_secret(),
        action_timeout_s=ami.action_timeout_s,
        connect_timeout_s=ami.connect_timeout_s,
        reconnect_min_s=ami.reconnect_min_s,
        reconnect_max_s=ami.reconnect_max_s,
    )


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """An outbound call: dial `channel`, on answer run `context,exten,priority`.

    `channel_id` becomes the new channel's uniqueid and `action_id` the ActionID its
    `OriginateFinished` carries (each generated when not given). A caller that matches the
    result by ActionID must choose it before sending: a failed dial's result can arrive before
    `originate()` returns.
    """

    channel: str
    context: str
    exten: str = "s"
    priority: int = 1
    caller_id: str | None = None
    timeout_ms: int = 30_000
    variables: Mapping[str, str] = field(default_factory=dict)
    channel_id: str | None = None
    action_id: str | None = None


@dataclass(frozen=True, slots=True)
class OriginateQueued:
    """Asterisk accepted the Originate; `OriginateFinished(action_id=...)` will follow."""

    action_id: str
    channel_id: str


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    """One live channel as CoreShowChannels reports it (used to reconcile after a restart)."""

    channel: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    state: str
    application: str
    duration_s: int


class _Manager(Manager):
    """panoramisk's Manager with its reconnect and re-send machinery handed to `AmiLink`."""

    def __init__(self, link: AmiLink, **config: Any) -> None:
        super().__init__(**config)
        self.link = link

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if f.cancelled() or f.exception() is not None:
            self.link._connect_failed(None if f.cancelled() else f.exception())
            return
        super().connection_made(f)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._connected = False
        pinger: asyncio.TimerHandle | None = getattr(self, "pinger", None)
        if pinger is not None:
            pinger.cancel()
            self.pinger = None
        self.link._connection_lost(exc)

    async def send_awaiting_actions(self, *_: Any) -> None:
        """Never re-send: fail whatever panoramisk queued for re-sending."""
        self.link._fail_awaiting("AMI link was lost before Asterisk answered; not re-sent")


class AmiLink:
    """A logged-in AMI connection that survives disconnects. Use `await connect()`, then actions."""

    def __init__(self, endpoint: AmiEndpoint) -> None:
        self.endpoint = endpoint
        self.up = asyncio.Event()
        self._subscribers: list[Subscriber] = []
        self._queue: asyncio.Queue[AmiEvent] = asyncio.Queue()
        self._manager: _Manager | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._reconnect_handle: asyncio.TimerHandle | None = None
        self._login_task: asyncio.Task[None] | None = None
        self._backoff = endpoint.reconnect_min_s
        self._logins = 0
        self._closing = False
        self._fatal: UserError | None = None
        self._first_login: asyncio.Future[None] | None = None
        self._inflight: set[asyncio.Future[Any]] = set()
        self._last_error = "no answer"

    # ---- connection -------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Connect and log in once; raise a one-line `UserError` if Asterisk is unreachable or refuses."""
        loop = asyncio.get_running_loop()
        self._first_login = loop.create_future()
        self._consumer = asyncio.create_task(self._deliver_events(), name="ami-events")
        self._manager = _Manager(
            self,
            host=self.endpoint.host,
            port=self.endpoint.port,
            loop=loop,
            ping_delay=10,
            ping_interval=10,
            log=logging.getLogger("panoramisk"),
        )
        self._manager.register_event("*", self._on_message)
        self._manager.on_connect = self._on_connect
        self._manager.connect()
        try:
            await asyncio.wait_for(asyncio.shield(self._first_login), self.endpoint.connect_timeout_s)
        except TimeoutError:
            await self.close()
            where = f"{self.endpoint.host}:{self.endpoint.port}"
            raise UserError(
                f"cannot reach Asterisk AMI at {where} ({self._last_error})",
                hint="is Asterisk running with manager enabled? (`ringcast lab up` for the lab)",
            ) from None
        except UserError:
            await self.close()
            raise

    async def close(self) -> None:
        self._closing = True
        self.up.clear()
        if self._reconnect_handle:
            self._reconnect_handle.cancel()
        if self._login_task:
            self._login_task.cancel()
        if self._manager is not None:
            self._manager.close()
        self._fail_inflight("AMI link closed")
        if self._consumer:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer

    def subscribe(self, subscriber: Subscriber) -> None:
        """Receive every typed event, in order; a coroutine subscriber is awaited before the next event."""
        self._subscribers.append(subscriber)

    def _on_connect(self, manager: _Manager) -> None:
        self._login_task = asyncio.ensure_future(self._login())

    async def _login(self) -> None:
        try:
            response = await self._send(
                {
                    "Action": "Login",
                    "Username": self.endpoint.username,
                    "Secret": self.endpoint.secret,
                    "Events": "on",
                }
            )
        except AmiError as exc:
            log.warning("AMI login got no answer: %s", exc)
            return
        if not response.success:
            self._fatal = UserError(
                f"Asterisk AMI at {self.endpoint.host}:{self.endpoint.port} refused the login "
                f"of user {self.endpoint.username!r}: {response.get('Message', 'authentication failed')}",
                hint="check RINGCAST_AMI__USERNAME / RINGCAST_AMI__SECRET against manager.conf",
            )
            if self._first_login and not self._first_login.done():
                self._first_login.set_exception(self._fatal)
            else:
                log.error("%s", self._fatal)
            self._closing = True
            assert self._manager is not None
            self._manager.close()
            return
        reconnect = self._logins > 0
        self._logins += 1
        self._backoff = self.endpoint.reconnect_min_s
        self.up.set()
        log.info(
            "AMI link up (%s:%s)%s", self.endpoint.host, self.endpoint.port, " again" if reconnect else ""
        )
        self._queue.put_nowait(LinkUp(received_at=time.time(), reconnect=reconnect))
        if self._first_login and not self._first_login.done():
            self._first_login.set_result(None)

    def _connect_failed(self, exc: BaseException | None) -> None:
        self._last_error = _describe(exc)
        log.debug("AMI connect failed: %s", self._last_error)
        self._schedule_reconnect()

    def _connection_lost(self, exc: BaseException | None) -> None:
        was_up = self.up.is_set()
        self.up.clear()
        self._fail_awaiting("AMI link lost before Asterisk answered; not re-sent")
        self._fail_inflight("AMI link lost")
        if was_up:
            log.warning("AMI link lost: %s", exc)
            self._queue.put_nowait(LinkDown(received_at=time.time(), reason=str(exc or "connection closed")))
        self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        if self._closing or self._manager is None:
            return
        delay = self._backoff
        self._backoff = min(self._backoff * 2, self.endpoint.reconnect_max_s)
        loop = asyncio.get_running_loop()
        self._reconnect_handle = loop.call_later(delay, self._manager.connect)

    def _fail_awaiting(self, reason: str) -> None:
        if self._manager is None:
            return
        while self._manager.awaiting_actions:
            action = self._manager.awaiting_actions.popleft()
            if not action.future.done():
                action.future.set_exception(AmiLinkDown(f"{action['Action']}: {reason}"))

    def _fail_inflight(self, reason: str) -> None:
        for future in list(self._inflight):
            if not future.done():
                future.set_exception(AmiLinkDown(reason))
        self._inflight.clear()

    # ---- events -----------------------------------------------------------------------------------

    def _on_message(self, manager: _Manager, message: Mapping[str, str]) -> None:
        event = parse_event(message, time.time())
        if event is not None:
            self._queue.put_nowait(event)

    async def _deliver_events(self) -> None:
        while True:
            event = await self._queue.get()
            for subscriber in self._subscribers:
                try:
                    result = subscriber(event)
                    if result is not None:
                        await result
                except Exception:
                    log.exception("AMI event subscriber failed on %r", event)

    # ---- actions ----------------------------------------------------------------------------------

    async def _send(self, fields: Mapping[str, Any], *, as_list: bool | None = None) -> Any:
        action, future = self._write(fields, as_list=as_list)
        return await self._response(fields, action, future)

    def _write(
        self, fields: Mapping[str, Any], *, as_list: bool | None
    ) -> tuple[Action, asyncio.Future[Any]]:
        """Write the action to Asterisk now; its response is awaited with `_response`."""
        if self._manager is None or self._manager.protocol is None or self._manager.protocol.closed:
            raise AmiLinkDown(f"{fields['Action']}: AMI link is down")
        action = Action(dict(fields), as_list=as_list)
        future = self._manager.send_action(action, as_list=as_list)
        self._inflight.add(future)
        return action, future

    async def _response(self, fields: Mapping[str, Any], action: Action, future: asyncio.Future[Any]) -> Any:
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.endpoint.action_timeout_s)
        except TimeoutError:
            self._forget(action)
            raise AmiTimeout(
                f"{fields['Action']}: no response from Asterisk within {self.endpoint.action_timeout_s}s"
            ) from None
        finally:
            self._inflight.discard(future)

    def _forget(self, action: Action) -> None:
        protocol = self._manager.protocol if self._manager else None
        if protocol is not None:
            protocol.responses.pop(action.id, None)
            protocol.responses.pop(action.action_id, None)
        if not action.future.done():
            action.future.cancel()

    async def action(self, fields: Mapping[str, Any]) -> Mapping[str, Any]:
        """Send any single-response action; raise `AmiError` when Asterisk says it failed."""
        return await self.action_now(fields)

    def action_now(self, fields: Mapping[str, Any]) -> Coroutine[Any, Any, Mapping[str, Any]]:
        """`action`, with the action written to Asterisk at once, before the caller yields to the
        event loop; await the result to learn whether Asterisk did it. Raises `AmiLinkDown` at once
        when the link is down."""
        if not self.up.is_set() and fields.get("Action") != "Login":
            raise AmiLinkDown(f"{fields['Action']}: AMI link is down")
        action, future = self._write(fields, as_list=False)

        async def response() -> Mapping[str, Any]:
            answer = await self._response(fields, action, future)
            if not answer.success:
                raise AmiError(f"{fields['Action']} failed: {answer.get('Message', '')}")
            return answer

        return response()

    async def originate(self, request: OriginateRequest) -> OriginateQueued:
        """Place a call; return once Asterisk has queued it. Never re-sent on reconnect."""
        action_id = request.action_id or f"rc-orig-{uuid.uuid4().hex}"
        channel_id = request.channel_id or f"rc-{uuid.uuid4().hex}"
        fields: dict[str, Any] = {
            "Action": "Originate",
            "ActionID": action_id,
            "Channel": request.channel,
            "Context": request.context,
            "Exten": request.exten,
            "Priority": str(request.priority),
            "Timeout": str(request.timeout_ms),
            "ChannelId": channel_id,
            "Async": "true",
        }
        if request.caller_id:
            fields["CallerID"] = request.caller_id
        if request.variables:
            fields["Variable"] = [f"{k}={v}" for k, v in request.variables.items()]
        await self.action(fields)
        return OriginateQueued(action_id=action_id, channel_id=channel_id)

    async def redirect(self, channel: str, context: str, exten: str = "s", priority: int = 1) -> None:
        await self.redirect_now(channel, context, exten, priority)

    def redirect_now(
        self, channel: str, context: str, exten: str = "s", priority: int = 1
    ) -> Coroutine[Any, Any, Mapping[str, Any]]:
        """The Redirect written at once (`action_now`): an answered customer's move to its agent
        waits for nothing."""
        fields = {
            "Action": "Redirect",
            "Channel": channel,
            "Context": context,
            "Exten": exten,
            "Priority": priority,
        }
        return self.action_now(fields)

    async def hangup(self, channel: str, cause: int = 16) -> None:
        await self.action({"Action": "Hangup", "Channel": channel, "Cause": str(cause)})

    async def set_var(self, channel: str, name: str, value: str) -> None:
        await self.action({"Action": "Setvar", "Channel": channel, "Variable": name, "Value": value})

    async def get_var(self, channel: str, name: str) -> str:
        response = await self.action({"Action": "Getvar", "Channel": channel, "Variable": name})
        return str(response.get("Value", ""))

    async def command(self, command: str) -> str:
        """Run an Asterisk CLI command and return its output."""
        response = await self.action({"Action": "Command", "Command": command})
        output = response.get("Output", "")
        if isinstance(output, list):
            return "\n".join(output)
        return str(output or getattr(response, "content", ""))

    async def channels(self) -> list[ChannelSnapshot]:
        """Every live channel (CoreShowChannels)."""
        if not self.up.is_set():
            raise AmiLinkDown("CoreShowChannels: AMI link is down")
        messages = await self._send({"Action": "CoreShowChannels"}, as_list=True)
        return [
            ChannelSnapshot(
                channel=m.get("Channel", ""),
                uniqueid=m.get("Uniqueid", ""),
                linkedid=m.get("Linkedid", ""),
                context=m.get("Context", ""),
                exten=m.get("Exten", ""),
                state=m.get("ChannelStateDesc", ""),
                application=m.get("Application", ""),
                duration_s=_seconds(m.get("Duration", "")),
            )
            for m in messages
            if m.get("Event") == "CoreShowChannel"
        ]


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc or "cancelled")


def _seconds(hhmmss: str) -> int:
    try:
        h, m, s = (int(part) for part in hhmmss.split(":"))
    except ValueError:
        return 0
    return h * 3600 + m * 60 + s

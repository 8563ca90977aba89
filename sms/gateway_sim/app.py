"""The simulator's request handling: send requests through a shape, and the control endpoints.

A send goes: the shape checks it (a refusal is logged `rejected`), a blocked number is refused,
the fault plan picks a fault, which may answer before accepting; else the message is accepted
(or, for a generic key seen before, replayed), its DLRs scheduled, and the fault may still hold,
drop or garble the reply. Control endpoints (JSON), all under `/_control/`:

- `GET health`: `{"ok": true, "shapes": [...]}`
- `GET stats`: counts: `accepted`, `replays`, `rejected` (and `rejected_by_reason`), `faults` by
  name, `dlrs_posted`, `dlr_failures`, `mos_posted`, `mo_failures`
- `GET faults`, `POST faults` (a partial `FaultSettings`; answers the whole): 400 when invalid
- `POST webhooks` `{"shape"?: name (default all), "dlr_url"?: url|null, "mo_url"?: url|null}`
- `POST mo` `{"shape", "from", "text", "to"?}`: posts one MO now; `{"http": status|null}`
- `POST reset`: counters, faults, webhook URLs back to the start; keys and pending DLRs forgotten
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import asdict
from typing import Any

from pydantic import ValidationError

from sms.gateway_sim.faults import NO_FAULT, FaultPlan
from sms.gateway_sim.http_server import Drop, Request, Response
from sms.gateway_sim.ledger import Ledger
from sms.gateway_sim.shape import AcceptedMessage, Refusal, Shape, Submission, json_response, utc_now
from sms.gateway_sim.webhooks import WebhookPoster, WebhookUrls


class GatewaySim:
    def __init__(self, shapes: list[Shape], plan: FaultPlan, ledger: Ledger) -> None:
        self._shapes = {shape.name: shape for shape in shapes}
        self._plan = plan
        self._ledger = ledger
        self.stats: Counter[str] = Counter()
        self._ids_by_key: dict[tuple[str, str], str] = {}
        self._serial = itertools.count(1)
        self._mo_serial = itertools.count(1)
        self.webhooks = WebhookPoster(plan, ledger, self.stats)
        self._initial_urls: dict[str, WebhookUrls] = {}

    def set_initial_webhooks(self, shape: str, dlr_url: str | None, mo_url: str | None) -> None:
        urls = self.webhooks.urls_for(shape)
        urls.dlr_url = dlr_url or urls.dlr_url
        urls.mo_url = mo_url or urls.mo_url
        self._initial_urls[shape] = WebhookUrls(urls.dlr_url, urls.mo_url)

    async def handle(self, request: Request) -> Response | Drop:
        if request.path.startswith("/_control/"):
            return await self._control(request)
        for shape in self._shapes.values():
            if shape.handles(request):
                return await self._send(shape, request)
        return json_response(404, {"error": f"no endpoint {request.path[:80]}"})

    # sending
    async def _send(self, shape: Shape, request: Request) -> Response | Drop:
        submission = shape.submission(request)
        if isinstance(submission, Refusal):
            return self._refused(shape, submission.reason, submission.response, None)
        if submission.to in self._plan.settings.blocked_numbers:
            return self._refused(shape, "blocked", shape.blocked(submission), submission)
        fault = self._plan.pick()
        settings = self._plan.settings
        if fault is not NO_FAULT:
            self.stats[f"fault:{fault.name}"] += 1
            self._ledger.write("fault", shape=shape.name, fault=fault.name, key=submission.key)
        early = await fault.before_accept(shape, settings)
        if early is not None:
            return early
        return await fault.after_accept(self._accept(shape, submission), settings)

    def _refused(
        self, shape: Shape, reason: str, response: Response, submission: Submission | None
    ) -> Response:
        self.stats["rejected"] += 1
        self.stats[f"rejected:{reason}"] += 1
        key, to = (submission.key, submission.to) if submission else (None, None)
        self._ledger.write("rejected", shape=shape.name, reason=reason, key=key, to=to)
        return response

    def _accept(self, shape: Shape, submission: Submission) -> Response:
        now = utc_now()
        remembered = (shape.name, submission.key) if submission.idempotent and submission.key else None
        if remembered is not None and remembered in self._ids_by_key:
            message_id = self._ids_by_key[remembered]
            self.stats["replays"] += 1
            self._ledger.write("replay", shape=shape.name, key=submission.key, id=message_id)
            replayed = self._message(shape, submission, message_id, now)
            reply = shape.accepted(replayed)
            reply.headers["idempotent-replayed"] = "true"
            return reply
        message = self._message(shape, submission, shape.message_id(next(self._serial)), now)
        if remembered is not None:
            self._ids_by_key[remembered] = message.id
        self.stats["accepted"] += 1
        self._ledger.write(
            "accepted",
            shape=shape.name,
            key=message.key,
            to=message.to,
            text=message.text,
            id=message.id,
            sender=message.sender,
        )
        self.webhooks.schedule_receipts(shape, message)
        return shape.accepted(message)

    @staticmethod
    def _message(shape: Shape, submission: Submission, message_id: str, now: Any) -> AcceptedMessage:
        s = submission
        return AcceptedMessage(message_id, shape.name, s.to, s.text, s.key, s.sender, s.dlr_url, now)

    # control
    async def _control(self, request: Request) -> Response:
        action = request.path.removeprefix("/_control/")
        try:
            body = json.loads(request.body) if request.body else {}
        except ValueError:
            return json_response(400, {"error": "body must be JSON"})
        if not isinstance(body, dict):
            return json_response(400, {"error": "body must be a JSON object"})
        if request.method == "GET" and action == "health":
            return json_response(200, {"ok": True, "shapes": list(self._shapes)})
        if request.method == "GET" and action == "stats":
            return json_response(200, self.stats_document())
        if action == "faults" and request.method in ("GET", "POST"):
            if request.method == "POST":
                try:
                    self._plan.update(body)
                except ValidationError as exc:
                    return json_response(
                        400,
                        {
                            "error": str(exc).splitlines()[0],
                            "details": exc.errors(include_url=False, include_context=False),
                        },
                    )
            return json_response(200, self._plan.settings.model_dump())
        if request.method == "POST" and action == "webhooks":
            return self._set_webhooks(body)
        if request.method == "POST" and action == "mo":
            return await self._inject_reply(body)
        if request.method == "POST" and action == "reset":
            self._reset()
            return json_response(200, {"ok": True})
        return json_response(404, {"error": f"no control endpoint {request.method} {action[:40]}"})

    def stats_document(self) -> dict[str, Any]:
        def by_prefix(prefix: str) -> dict[str, int]:
            return {k.removeprefix(prefix): v for k, v in self.stats.items() if k.startswith(prefix)}

        plain = (
            "accepted",
            "replays",
            "rejected",
            "dlrs_posted",
            "dlr_failures",
            "mos_posted",
            "mo_failures",
        )
        return {
            **{name: self.stats[name] for name in plain},
            "rejected_by_reason": by_prefix("rejected:"),
            "faults": by_prefix("fault:"),
        }

    def _set_webhooks(self, body: dict[str, Any]) -> Response:
        names = [body["shape"]] if "shape" in body else list(self._shapes)
        if any(name not in self._shapes for name in names):
            return json_response(400, {"error": f"unknown shape {body.get('shape')!r}"})
        for name in names:
            urls = self.webhooks.urls_for(name)
            if "dlr_url" in body:
                urls.dlr_url = body["dlr_url"]
            if "mo_url" in body:
                urls.mo_url = body["mo_url"]
        return json_response(200, {name: asdict(self.webhooks.urls_for(name)) for name in self._shapes})

    async def _inject_reply(self, body: dict[str, Any]) -> Response:
        shape = self._shapes.get(str(body.get("shape", "")))
        sender, text = body.get("from"), body.get("text")
        if shape is None or not isinstance(sender, str) or not isinstance(text, str):
            return json_response(400, {"error": "needs shape (known), from and text"})
        try:
            http = await self.webhooks.post_reply(shape, sender, text, body.get("to"), next(self._mo_serial))
        except LookupError as exc:
            return json_response(409, {"error": str(exc)})
        return json_response(200, {"http": http})

    def _reset(self) -> None:
        self.stats.clear()
        self._ids_by_key.clear()
        self._plan.reset()
        self.webhooks.cancel_pending()
        for name in self._shapes:
            initial = self._initial_urls.get(name, WebhookUrls())
            self.webhooks.urls[name] = WebhookUrls(initial.dlr_url, initial.mo_url)
        self._ledger.write("reset")

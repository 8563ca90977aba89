"""A message's final text from a template and a recipient's values (pure): rendered, then marked.

A marketing message carries the marks its policy asks for (the sender's signature, the opt-out
text: "【华信】周末八折，回复TD退订"); a transactional one is sent as rendered. A value the template
needs and the recipient lacks is not an error to stop a bulk send for: the message comes back
`refused` (reason `template_value_missing`) for the outbox to record as failed, and the rest go on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ringcast.errors import UserError
from sms.policy import SmsPolicy
from sms.templates import Template, TemplateValueMissing, marketing_text, render


@dataclass(frozen=True, slots=True)
class Composed:
    body: str
    refusal: tuple[str, str] | None = None  # (reason code, one line) when it cannot be sent


def compose(
    template: Template, values: Mapping[str, str | None], marketing: SmsPolicy | None, sender: str | None
) -> Composed:
    """The text for one recipient; `marketing` is the policy of a marketing message (None: transactional)."""
    try:
        body = render(template, values)
    except TemplateValueMissing as missing:
        return Composed(template.text, ("template_value_missing", missing.message))
    if marketing is None:
        return Composed(body)
    return Composed(
        marketing_text(
            body,
            sender_name=need_sender(sender),
            opt_out_text=marketing.opt_out_text,
            style=marketing.signature,
        )
    )


def need_sender(sender: str | None) -> str:
    """The sender's name a marketing message is signed with; a `UserError` when there is none."""
    if sender is None or not sender.strip():
        raise UserError(
            "marketing SMS must carry the sender's name (签名)", hint="give --sender or set sms.sign"
        )
    return sender

"""Opt-out keywords (SMS-5): does a customer's reply ask to stop messages (pure)?

A reply is normalised before matching: NFKC (full-width letters and punctuation become their
half-width forms, "ＴＤ" -> "TD"), every space, punctuation, symbol and control character dropped
(so "T.D.", " stop! " and "退订。" all count), then case-folded. The whole normalised reply must
equal a keyword: "T" and "N" are keywords but "Thanks", "No thanks" and "Not now" are not, and
"NO" is not a default keyword either (it answers too many other questions, such as "is this a
good time?"); an operator who wants it adds it. One exception: a reply that contains 退订 (or the
traditional 退訂) anywhere, such as "请帮我退订", is an opt-out whatever surrounds it, since
Chinese customers write the word inside sentences and a missed opt-out costs far more than a
wrong one. That rule holds whatever keywords are configured.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from ringcast.errors import UserError

DEFAULT_OPT_OUT_KEYWORDS = ("STOP", "UNSUBSCRIBE", "TD", "T", "退订", "N")
OPT_OUT_WORDS = ("退订", "退訂")  # an opt-out wherever they appear in a reply
_DROPPED_CATEGORIES = ("Z", "P", "S", "C")  # separators, punctuation, symbols, control and format


def normalised(text: str) -> str:
    """`text` as replies and keywords are compared (see the module docstring)."""
    kept = (
        c
        for c in unicodedata.normalize("NFKC", text)
        if not unicodedata.category(c).startswith(_DROPPED_CATEGORIES)
    )
    return "".join(kept).casefold()


def normalised_keywords(keywords: Iterable[str]) -> dict[str, str]:
    """Each keyword's normalised form, to the keyword as configured; a `UserError` for a blank one
    (it would match every reply made only of punctuation or emoji). Check a configuration with it."""
    found: dict[str, str] = {}
    for keyword in keywords:
        key = normalised(keyword)
        if not key:
            raise UserError(f"SMS opt-out keyword {keyword!r} has no letters", hint="e.g. STOP or 退订")
        found.setdefault(key, keyword)
    return found


def opt_out_keyword(text: str, keywords: Iterable[str] = DEFAULT_OPT_OUT_KEYWORDS) -> str | None:
    """The keyword (as configured, or the 退订 word found) that makes the reply `text` an opt-out, or None."""
    reply = normalised(text)
    if not reply:
        return None
    contained = next((word for word in OPT_OUT_WORDS if word in reply), None)
    return contained or normalised_keywords(keywords).get(reply)

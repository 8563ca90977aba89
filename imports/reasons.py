"""Why a row was not imported: the reason codes of the summary, the rejects file and the tests."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """One code per rejected row, checked in this order (the first that applies wins)."""

    MALFORMED_ROW = "malformed_row"  # wrong number of fields, or bytes not in the file's encoding
    MISSING_NUMBER = "missing_number"  # the phone cell is empty or a placeholder (无, N/A, ---)
    INVALID_NUMBER = "invalid_number"  # phonenumbers cannot parse it, or it is not a valid number
    DNC = "dnc"  # on a do-not-call list (免打扰): the person asked not to be called
    BLACKLISTED = "blacklisted"  # on the blacklist (黑名单), exact or by prefix
    DUPLICATE = "duplicate"  # already in the file, the list, or another list of the campaign

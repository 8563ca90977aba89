"""What one phone number met on its own is: E.164, type, place (号码归属地) and carrier, in Chinese
and English, and time zones. For a caller ID the network gives an inbound call, a caller stored
with a call, a number typed for `ringcast ivr test`; the list import reads millions of rows its own
faster way (`imports.numbers.NumberNormaliser`), which gives the same answers.

One path: `imports.numbers.reference_normalise`, the importer's tested reference (phonenumbers'
parse, validity, type, geocoder, carrier and time zones), so a number here and the same number in an
imported list get the same E.164 and place. Anything that is not a valid number (a withheld caller
ID: empty, `anonymous`, `unknown`; text without digits; a number too short or of no range) has no
facts: None.

Default region, one policy: a number written without its country code is read in the region the
caller passes, and every caller passes the one setting, `default_region` (`Settings.default_region`,
`CN` unless configured: the engine's `LiveDialer.default_region`, the CLI's `load_settings()`).
Numbers ringcast stored are E.164 already and are read with `E164_ONLY`: text without a country code
there (a caller ID kept as the network gave it) is no number, never a guess in some region.
"""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.persistence.models.enums import NumberType
from imports.number_facts import Place
from imports.numbers import NumberInfo, reference_normalise

E164_ONLY = "ZZ"  # phonenumbers' unknown region: only numbers written with + and their country code read


@dataclass(frozen=True, slots=True)
class NumberFacts:
    e164: str
    number_type: NumberType
    place: Place  # region and city, carrier (zh, en), time zones


def number_facts(text: str, region: str) -> NumberFacts | None:
    """The facts of `text`, a national number being `region`'s (`E164_ONLY`: none is); None when
    it is no valid number."""
    found = reference_normalise(text, region)
    if not isinstance(found, NumberInfo):
        return None
    return NumberFacts(found.e164, found.number_type, found.place)

"""Pytest plugin: the real Asterisk lab, for tests marked `lab`.

`lab` (session) brings the lab up once (a no-op when it already runs) and yields the `Lab`;
it is left running afterwards. `lab_reset` hangs up every call before a test so that calls of
an earlier test cannot leak into it; use it per module with
`pytestmark = [pytest.mark.lab, pytest.mark.usefixtures("lab_reset")]`. `carrier_ami` is an AMI
link to the lab's carrier, which places callers to the pbx (`dialer.asterisk.carrier_caller`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dialer.asterisk.ami import AmiLink, endpoint_from_settings
from dialer.asterisk.carrier_caller import carrier_endpoint
from dialer.asterisk.lab import Lab
from ringcast.errors import UserError
from ringcast.settings import load_settings


@pytest.fixture(scope="session")
def lab() -> Lab:
    the_lab = Lab(load_settings())
    try:
        the_lab.up()
    except UserError as exc:
        pytest.fail(f"the Asterisk lab did not come up: {exc}", pytrace=False)
    return the_lab


@pytest.fixture
def lab_reset(lab: Lab) -> Lab:
    lab.reset()
    return lab


@pytest.fixture
async def carrier_ami(lab: Lab) -> AsyncIterator[AmiLink]:
    link = AmiLink(carrier_endpoint(load_settings()))
    await link.connect()
    yield link
    await link.close()


@pytest.fixture
async def pbx_ami(lab: Lab) -> AsyncIterator[AmiLink]:
    """The test's own AMI link to the pbx: its events, and where a caller's channel is."""
    link = AmiLink(endpoint_from_settings(load_settings()))
    await link.connect()
    yield link
    await link.close()

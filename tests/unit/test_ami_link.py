"""The AMI link against a scriptable AMI server: panoramisk's pitfalls stay closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from dialer.asterisk.ami import AmiEndpoint, AmiLink, AmiLinkDown, AmiTimeout, OriginateRequest
from dialer.asterisk.events import (
    AmiEvent,
    ChannelHungUp,
    ChannelStateChanged,
    LinkDown,
    LinkUp,
    OriginateFinished,
)
from ringcast.errors import UserError
from tests.support.fake_ami import FakeAmi


def endpoint(port: int, secret: str = "s3cret") -> AmiEndpoint:
    return AmiEndpoint(
        host="127.0.0.1",
        port=port,
        username="ringcast",
        secret=secret,
        action_timeout_s=0.3,
        connect_timeout_s=2.0,
        reconnect_min_s=0.05,
        reconnect_max_s=0.2,
    )


@pytest.fixture
async def fake_ami() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def link(fake_ami: FakeAmi) -> AsyncIterator[AmiLink]:
    link = AmiLink(endpoint(fake_ami.port))
    await link.connect()
    yield link
    await link.close()


async def wait_for(predicate, timeout: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_originate_is_async_with_channel_id_and_result_arrives_as_event(
    fake_ami: FakeAmi, link: AmiLink
) -> None:
    events: list[AmiEvent] = []
    link.subscribe(events.append)
    queued = await link.originate(
        OriginateRequest(channel="PJSIP/13800138000@carrier", context="ringcast-park", variables={"A": "1"})
    )
    sent = fake_ami.actions("Originate")[0]
    assert sent["Async"] == "true"
    assert sent["ChannelId"] == queued.channel_id
    assert sent["ActionID"] == queued.action_id
    assert sent["Variable"] == "A=1"

    fake_ami.send_event(
        "OriginateResponse",
        ActionID=queued.action_id,
        Response="Failure",
        Reason="5",
        Channel="PJSIP/13800138000@carrier",
        Uniqueid=queued.channel_id,
    )
    await wait_for(lambda: any(isinstance(e, OriginateFinished) for e in events))
    finished = next(e for e in events if isinstance(e, OriginateFinished))
    assert (finished.action_id, finished.success, finished.reason) == (queued.action_id, False, 5)


async def test_action_without_response_times_out_and_is_forgotten(fake_ami: FakeAmi, link: AmiLink) -> None:
    fake_ami.silent_actions.add("Getvar")
    with pytest.raises(AmiTimeout, match="Getvar"):
        await link.get_var("PJSIP/x", "FOO")
    protocol = link._manager.protocol  # type: ignore[union-attr]
    assert not any(a.get("Action") == "Getvar" for a in protocol.responses.values())


async def test_originate_in_flight_when_link_drops_fails_and_is_never_resent(
    fake_ami: FakeAmi, link: AmiLink
) -> None:
    events: list[AmiEvent] = []
    link.subscribe(events.append)
    fake_ami.silent_actions.add("Originate")
    pending = asyncio.create_task(link.originate(OriginateRequest(channel="PJSIP/1@carrier", context="c")))
    await wait_for(lambda: len(fake_ami.actions("Originate")) == 1)
    fake_ami.drop_all()
    with pytest.raises(AmiLinkDown):
        await pending
    await wait_for(lambda: any(isinstance(e, LinkUp) and e.reconnect for e in events))
    await asyncio.sleep(0.2)  # panoramisk would re-send on FullyBooted; give it the chance
    assert len(fake_ami.actions("Originate")) == 1
    assert fake_ami.connections == 2
    assert [type(e) for e in events if isinstance(e, LinkDown | LinkUp)] == [LinkDown, LinkUp]


async def test_actions_fail_fast_while_link_is_down(fake_ami: FakeAmi, link: AmiLink) -> None:
    await fake_ami.stop()
    await wait_for(lambda: not link.up.is_set())
    with pytest.raises(AmiLinkDown):
        await link.hangup("PJSIP/x")


async def test_events_reach_async_subscribers_in_arrival_order(fake_ami: FakeAmi, link: AmiLink) -> None:
    seen: list[str] = []

    async def slow_subscriber(event: AmiEvent) -> None:
        if isinstance(event, ChannelStateChanged):
            await asyncio.sleep(0.1)  # a slow first handler must not let the hang-up overtake it
            seen.append("answered")
        elif isinstance(event, ChannelHungUp):
            seen.append("hungup")

    link.subscribe(slow_subscriber)
    fake_ami.send_event("Newstate", Uniqueid="u1", Linkedid="u1", Channel="PJSIP/a", ChannelState="6")
    fake_ami.send_event("Hangup", Uniqueid="u1", Linkedid="u1", Channel="PJSIP/a", Cause="16")
    await wait_for(lambda: len(seen) == 2)
    assert seen == ["answered", "hungup"]


async def test_wrong_secret_is_one_clear_error(fake_ami: FakeAmi) -> None:
    link = AmiLink(endpoint(fake_ami.port, secret="wrong"))
    with pytest.raises(UserError, match="refused the login of user 'ringcast'") as exc_info:
        await link.connect()
    assert "wrong" not in str(exc_info.value)
    assert fake_ami.connections == 1  # a refused login is final: no reconnect storm


async def test_unreachable_asterisk_is_one_clear_error() -> None:
    server = FakeAmi()
    await server.start()
    port = server.port
    await server.stop()
    link = AmiLink(endpoint(port))
    with pytest.raises(UserError, match=f"cannot reach Asterisk AMI at 127.0.0.1:{port}"):
        await link.connect()


def test_endpoint_repr_hides_secret() -> None:
    assert "s3cret" not in repr(endpoint(5038))

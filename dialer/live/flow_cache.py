"""The inbound calls' IVR flows, parsed once per version (IVR-1): `FlowCache.get(session, name)`.

An arrival needs its flow as a `Flow`; parsing the stored YAML (and validating it) costs far more
than reading the row. A version's document never changes: every save of a flow writes the next
version (`campaigns.ivr_store.save_flow`; flows are never deleted, activation and deactivation leave
document and version as they are). So the parsed flow is kept by (name, version): an arrival reads
the flow's current version, one indexed row without the document, and parses only a version it has
not seen, so a newly activated version is picked up by the next call. At most `FLOWS_KEPT` versions
are kept, the least recently used going first. Used from the engine's database thread alone.
"""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.agent_store import named
from campaigns.ivr_store import StoredFlow
from campaigns.persistence.models import IvrFlow
from dialer.ivr.flow import Flow, parse_flow

FLOWS_KEPT = 64  # parsed flow versions kept


class FlowCache:
    def __init__(self, size: int = FLOWS_KEPT) -> None:
        self.size = size
        self._parsed: OrderedDict[tuple[str, int], tuple[str, Flow]] = OrderedDict()  # -> document, flow

    def get(self, session: Session, name: str) -> StoredFlow:
        """Flow `name` as stored now (a `UserError` if there is none), parsed at most once per version."""
        current = session.execute(
            select(IvrFlow.version, IvrFlow.active, IvrFlow.updated_at).where(IvrFlow.name == name)
        ).first()
        if current is not None and (key := (name, current.version)) in self._parsed:
            self._parsed.move_to_end(key)
            document, flow = self._parsed[key]
            return StoredFlow(name, current.version, current.active, document, flow, current.updated_at)
        row = named(session, IvrFlow, name)  # with its document; none: the `UserError`
        flow = parse_flow(row.document, name)
        self._keep((name, row.version), row.document, flow)
        return StoredFlow(name, row.version, row.active, row.document, flow, row.updated_at)

    def _keep(self, key: tuple[str, int], document: str, flow: Flow) -> None:
        self._parsed[key] = (document, flow)
        while len(self._parsed) > self.size:
            self._parsed.popitem(last=False)

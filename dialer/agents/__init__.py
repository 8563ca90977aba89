"""Agents: their state machine (AGT-1, AGT-7) and the choice of an agent for a call, outbound and ACD."""

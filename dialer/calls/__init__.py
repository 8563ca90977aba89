"""Calls as pure state machines: what one outbound call goes through (the inbound ACD's come next)."""

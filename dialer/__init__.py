"""Everything that talks to Asterisk and decides what to dial.

`dialer.asterisk` holds the adapters (AMI link, FastAGI server, config generation, the
lab); pure decision code (pacing, agents, routing) lives beside it and never imports
an adapter.
"""

"""The inbound ACD's routing decisions (ACD-1..ACD-10), pure code over the agents the dialer shares.

`queues` defines the queues, `calls` the waiting calls, `entry` and `screening` what happens before a
call queues (area routing, direct dial, blacklist); `board` indexes the calls and the agents' states,
`router` decides (which call an agent gets, which agents a call goes to, overflow) with `strategies`'
rank keys, returning the `commands` the engine carries out; `ringing` how an offer reaches ring-mode
agents' phones and which of them answered (ACD-6); `announcements` says a caller's position
and estimated wait, `blending` what inbound holds of blended agents, `restart` which callers a
restarted engine takes back. `baseline` makes the same decisions by scanning everything: the
reference the router is tested and benchmarked against. See docs/acd.md.
"""

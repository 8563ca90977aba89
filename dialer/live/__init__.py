"""The live dialer: the campaign runners, agent desk and call tracking that `ringcast serve` runs.

Adapters only: the decisions are made by the pure code (`dialer.pacing`, `dialer.agents`,
`dialer.calls`, `campaigns.lifecycle`, `campaigns.compliance`), the database work by
`campaigns.dial_store` in the database thread, Asterisk is driven through `dialer.asterisk.ami`.
"""

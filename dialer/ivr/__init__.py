"""IVR flows as data (IVR-1..IVR-5): the flow document, its checks, the pure interpreter, time plans.

`flow` reads a flow (YAML or JSON) into frozen node models and `checks` finds what would strand a
caller; `run.FlowRun` walks a flow for one call and answers with `actions`, which the FastAGI
adapter carries out; `did_plan` picks a DID's flow by the time of the call (`windows`), or its
`direct` route straight to an agent or a queue (ACD-9). Pure: no I/O, no clock. Flows are stored by
`campaigns.ivr_store` and driven by `ringcast ivr`.
"""

"""A local SMS gateway server with injectable faults, for tests and benchmarks (SMS-5).

`python -m sms.gateway_sim` runs one HTTP server that speaks three provider APIs at once: a
generic JSON gateway honouring idempotency keys (`generic_api`), Twilio's Messages API
(`twilio_api`) and Aliyun's signed SendSms (`aliyun_api`). It logs every accepted message to an
append-only JSON-lines file (`ledger`), the ground truth for "accepted exactly once"; misbehaves
on purpose, by seeded chance, one class per fault (`faults`); posts delivery receipts and inbound
messages to webhooks (`webhooks`); and is steered at run time through `/_control/` (`app`). The
HTTP layer is a lean asyncio + httptools server (`http_server`: why not uvicorn is said there).
"""

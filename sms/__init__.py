"""SMS: templates, outbox with exactly-once delivery, providers over HTTP, opt-outs."""

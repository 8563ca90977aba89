"""Campaign simulation: scenario files, their distributions, the event-driven simulator and its metrics."""

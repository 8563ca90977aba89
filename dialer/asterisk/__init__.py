"""Adapters to Asterisk: the AMI link, the FastAGI server, dialplan/config generation and the lab.

Only this package imports panoramisk. It turns AMI messages into typed domain events
(`dialer.asterisk.events`) and carries out commands; it makes no business decisions.
"""

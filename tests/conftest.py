"""Test plugins: databases (SQLite + a private PostgreSQL) and the Asterisk lab."""

pytest_plugins = ["tests.support.databases", "tests.support.lab", "tests.support.sms_gateway"]

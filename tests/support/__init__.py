"""Test fixtures shared by the tiers: databases (SQLite, private PostgreSQL) and the Asterisk lab."""

"""Database tests: run on SQLite and PostgreSQL through the fixtures in `tests.support.databases`."""

"""The embedded SQLite dataset: schema, writing, read-only access, geographic queries."""

"""Fake upstream servers for tests, each on a real 127.0.0.1 socket."""

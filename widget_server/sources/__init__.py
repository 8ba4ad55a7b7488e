"""Search sources: one module per source, each behind the same small interface."""

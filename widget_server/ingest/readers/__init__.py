"""Readers of real data files, one module per source format: records and a row report, nothing written."""

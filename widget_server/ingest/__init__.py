"""Dataset building: reference data, real formations, demo records, importers."""

"""The merged national catalogue of apprenticeship trainings.

Every real training source is read into TrainingRecords (record.py) by its reader
(ingest/readers/), the records are grouped into trainings by the matching rules of
merge.py (docs/catalogue.md), and each training is turned into one `formation` row
by enrich.py: its title and level (diplomas.py), its ROME codes, its organisation's
name, address and Qualiopi status (organisations.py), its position and how precise it
is, its intake periods, its sources and years, its contact and its outcomes
(outcomes.py).
"""

"""Lookups people type into first: métiers (ROME, job titles, diplomas) and places (communes)."""

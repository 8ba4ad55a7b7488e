"""Apprenticeship search widget: formations, offers and likely recruiters in one search."""

__version__ = "0.1.0"

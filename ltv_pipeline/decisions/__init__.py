"""Decisions: the tables people act on (segments, channel budgets, retention targets)."""

"""Periodic evaluation: rubrics, cycles, their inputs, scoring results and consequences."""

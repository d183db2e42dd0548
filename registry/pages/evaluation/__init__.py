"""The district staff's evaluation pages: cycles and inspections, results, and the rubric.

Every change goes through registry.evaluation (the same service the JSON API calls); a refusal
re-renders the page with each message next to its field and the typed values kept.
"""

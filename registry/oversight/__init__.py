"""Oversight of listed providers: complaints from the public and safety incidents."""

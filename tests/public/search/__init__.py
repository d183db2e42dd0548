"""Search over the public whitelist: tokens, both engines, the API and the page."""

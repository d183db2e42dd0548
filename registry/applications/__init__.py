"""A provider's side of an application: identity checks, uploaded files, the inbox."""

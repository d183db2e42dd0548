"""A provider's side of an application: drafts, forms, documents, sign-up, identity, inbox."""

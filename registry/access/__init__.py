"""Who may see and do what: accounts, memberships and the visibility of every kind of record."""

"""What the public reads: the whitelist projection, search, history and exports."""

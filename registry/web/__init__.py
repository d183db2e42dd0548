"""What the API and the pages share as HTTP adapters: the session actor, CSRF, error answers."""

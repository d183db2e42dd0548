"""The listing lifecycle: states, transition table, guards, engine and clock. No HTTP."""

"""The listing lifecycle: states, the transition table, guards, the engine and the clock. No HTTP."""

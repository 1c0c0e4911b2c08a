"""Business logic: plain async functions taking the session first. No Quart here."""

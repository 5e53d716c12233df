"""A fake Telegram Bot API server and a client that acts as a person, for tests and the demo."""

"""The conversation engine: pure, synchronous, no Telegram. Runs the flows in ``conversations/``."""

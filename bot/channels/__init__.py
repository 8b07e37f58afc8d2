"""Front ends: each translates its medium's input to ``Incoming`` and renders the engine's ``Reply``."""

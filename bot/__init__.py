"""iddt-bot: decision support for integrated, stage-wise treatment (IDDT) of co-occurring disorders."""

__version__ = "0.1.0"

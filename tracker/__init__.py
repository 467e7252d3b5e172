"""tracker: log claims and the sources that carry them, record what happened, score who to trust."""

__version__ = "0.1.0"

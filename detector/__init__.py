"""detector: find coordinated inauthentic behaviour in dumps of social-media posts."""

__version__ = "0.1.0"

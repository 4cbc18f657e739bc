"""Custom Audiences: a self-hostable API for static lists of user identifiers."""

__version__ = "0.1.0"

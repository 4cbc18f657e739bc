"""Persistent state behind one port (``base.Store``)."""

"""The HTTP API: thin Litestar handlers over the services."""

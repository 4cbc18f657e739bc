"""Pure rules of the Custom Audiences API: no I/O, no web framework, no SQL."""

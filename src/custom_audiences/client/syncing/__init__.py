"""Making an audience's membership equal to a list of identifiers read from a file."""

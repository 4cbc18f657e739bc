"""Use cases: each combines domain rules with one or more store transactions."""

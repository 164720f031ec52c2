"""Runtime support for schemac-generated Python modules."""

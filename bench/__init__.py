"""`make bench`: load, integrity and fault tests of the sign flow (see bench/run.py)."""

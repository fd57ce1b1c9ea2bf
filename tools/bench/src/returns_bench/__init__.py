"""`returns-bench`: the portal API under load, and the raw limits of the same servers."""

"""Makes the test modules of this service importable as `declaration.tests.*`, so they never
clash with another service's `tests` package when pytest collects the whole repository."""

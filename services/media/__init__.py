# Makes the tests of this service the package `media.tests` for pytest, so their helper
# modules do not collide with another service's `tests` package. Not an importable library.

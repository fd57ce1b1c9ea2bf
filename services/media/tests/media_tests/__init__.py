"""Helpers of the media service's tests (a package of its own name: every service has a
`tests` folder)."""

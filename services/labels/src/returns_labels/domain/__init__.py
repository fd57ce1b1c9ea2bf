"""Plain models and rules of the labels service: no I/O here."""

"""Plain models and rules of photos (R6, R13): no I/O here."""

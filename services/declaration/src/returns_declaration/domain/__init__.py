"""Plain models and rules of a return declaration: no I/O here."""

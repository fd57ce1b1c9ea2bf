"""Plain models and rules of photos (R13) come with the upload: no I/O here."""

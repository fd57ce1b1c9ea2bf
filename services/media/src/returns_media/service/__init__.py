"""Use cases of the media service (photo upload and links come with a later change)."""

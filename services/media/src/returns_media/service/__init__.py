"""Use cases of the media service: upload, links, lookup, clean-up, GDPR erasure."""

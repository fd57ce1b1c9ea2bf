"""`returns-admin`: what support needs without a back-office: ask for a label, see where it
stands, read and replay the dead-letter topics, and see how far behind each consumer is."""

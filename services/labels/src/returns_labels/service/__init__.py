"""Use cases of the labels service, written against the ports in `ports.py`."""

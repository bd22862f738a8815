"""The domain engine: plain Python, no Django, no I/O, time passed in."""

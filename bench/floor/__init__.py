"""The framework floor for bench/http.py: Django with nothing in it (see settings.py)."""

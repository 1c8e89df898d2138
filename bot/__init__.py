"""Front ends: the Discord client and the offline console, both on :mod:`core`."""

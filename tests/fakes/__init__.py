"""Real stand-ins for what tests cannot reach: servers on loopback, fake front ends."""

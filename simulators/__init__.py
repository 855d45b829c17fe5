"""Stand-ins for the outside world (virtual chip, capture devices, SMSC, courier, registry,
clock), each run as its own process and reached only over the interface the real device or
party uses. No module under ``services/`` imports this package."""

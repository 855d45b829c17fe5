"""Simulated capture devices (fingerprint, iris, face, signature) for every recording station."""

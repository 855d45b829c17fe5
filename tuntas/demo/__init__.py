"""`tuntas demo` (the main job): see :mod:`tuntas.demo.run`."""

from tuntas.demo.run import add_command

__all__ = ["add_command"]

"""The virtual KTP-el chip and the card printer's hopper of one station's reader slot.

Runs as its own process (``python -m simulators.vchip``), reached only the way the real
devices are: the chip over PC/SC (pcscd's vpcd driver), the hopper over the line protocol of
docs/card-station.md. It imports nothing from ``services``.
"""

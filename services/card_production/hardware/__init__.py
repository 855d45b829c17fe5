"""The card station's hardware: chip encoder (PC/SC), card renderer and printer (CUPS)."""

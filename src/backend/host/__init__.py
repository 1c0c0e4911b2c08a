"""State shared by the workers of one host: private files, hash slots.

Plain Python and the standard library only; any layer may import it.
"""

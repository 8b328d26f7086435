"""The functional core of Capacity Copilot: pure planning over data frames.

Nothing in this package imports ``bot``, touches the network, reads the clock or the
environment; today's date is always an argument.
"""

"""``python -m generator``: the same program as ``fleetgen``."""

from generator.launcher import main

main()

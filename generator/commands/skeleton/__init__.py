"""The files ``fleetgen init`` writes into a new fleet repository, verbatim but for their
placeholders; installed as package data (see pyproject.toml and generator.commands.init)."""

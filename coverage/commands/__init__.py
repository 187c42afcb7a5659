"""Sub-commands of ``parcours``; each module has ``register(subparsers)`` (see ``coverage.cli``)."""

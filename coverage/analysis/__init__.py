"""Planners' analysis over the long (origin, destination, cost) table: access, inequality
metrics, what-if scenarios, siting and capacity (E2SFCA). Results are typed facts."""

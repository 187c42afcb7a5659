"""The OSRM road engine: build a routing dataset from an OpenStreetMap extract, check it, load it.

Takes plain frames (communes as ``insee``/``lon``/``lat``); imports nothing from ``data``."""

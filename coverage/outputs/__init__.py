"""Renderers: French wording, terminal text, HTML report, exports and offline maps.

Everything a reader sees is worded here; the layers below hold facts only."""

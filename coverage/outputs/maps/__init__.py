"""Self-contained interactive HTML maps (folium, with Leaflet inlined)."""

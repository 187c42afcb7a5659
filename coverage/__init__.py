"""Post-cancer care pathway coverage in Auvergne-Rhône-Alpes: finder and planning analytics.

The import name ``coverage`` is shared with coverage.py; this project never installs
coverage.py. ``coverage.PROJECT_MARKER`` lets a test check that the imported package is ours.
"""

__version__ = "0.1.0"
PROJECT_MARKER = "parcours-coverage"

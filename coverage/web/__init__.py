"""The Streamlit front end (the only code that imports Streamlit), one module per job.

``config`` (environment variables, travel model, file names), ``loaders`` (typed cached
loaders), ``search`` (a query to an outcome), ``cards`` and ``markup`` (escaped HTML),
``uploads`` (registry files of a session), ``frames`` (the desk's tables and figures),
``messages`` (French error text), ``geolocate`` (the position button), ``session``,
``widgets``, ``style``, and ``pages/`` (patient, prescriber, registry, desk).
"""

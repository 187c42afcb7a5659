"""The Streamlit page: the only code that imports Streamlit. ``app.py`` routes to its pages."""

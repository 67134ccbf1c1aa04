"""The streamlit side of Kaigong: sidebar and URL state, cached data calls, formatting, widgets."""

"""The read API pages call: one module per page's data."""

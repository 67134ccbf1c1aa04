"""The DuckDB warehouse: the only writer (loads, 销号, targets, restore), states, cells, backups."""

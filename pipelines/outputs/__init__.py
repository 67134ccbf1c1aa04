"""What leaves the dashboard: charts, briefings, PNG and CSV files."""

"""The one vocabulary: the schema, reference regions and industries, findings, labels and formats."""

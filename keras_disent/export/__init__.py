"""Export (filled by the export issue)."""

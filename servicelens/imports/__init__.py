"""Bulk import and export of customers, products and tickets (CSV, XLSX, NDJSON)."""

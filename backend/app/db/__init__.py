"""Database location (embedded or DATABASE_URL) and the migration runner."""

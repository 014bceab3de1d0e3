"""SQLModel tables and request/response models."""

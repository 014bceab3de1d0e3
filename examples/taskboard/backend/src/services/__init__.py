"""Business logic; every function is scoped to one authenticated user."""

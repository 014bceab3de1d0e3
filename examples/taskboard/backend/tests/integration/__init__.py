"""HTTP-level tests of the acceptance scenarios, through FastAPI's TestClient."""

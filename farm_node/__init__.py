"""PyFarm's farm node: the coordinator, its SQLite store and the renderer slots of a render host."""
__version__ = "0.1.0"

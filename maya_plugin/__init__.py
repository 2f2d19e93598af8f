"""PyFarm's Maya side: the farm client, the scene reader and job builder, and the Submit and Monitor UI."""
__version__ = "0.1.0"

"""cxlens: customer-service conversation analytics.

``import cxlens`` is cheap: heavy libraries (torch, transformers, mlflow,
spark) are imported inside the functions that need them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

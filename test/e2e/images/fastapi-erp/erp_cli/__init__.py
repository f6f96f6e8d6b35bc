"""ERP command-line tools (console script: erp-bootstrap)."""
__version__ = "0.1"

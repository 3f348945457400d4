"""effc's version: written into generated code and every manifest."""

__version__ = "0.1.0"

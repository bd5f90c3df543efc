"""Exports from NetBox for other systems (``campusnet export ...``)."""

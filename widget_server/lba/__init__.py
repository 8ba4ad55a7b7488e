"""La Bonne Alternance compatibility: its v1 API's parameters, routes and item shapes, over our search."""

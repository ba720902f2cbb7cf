"""The catalogue: platform categories, brands and tags; merchants' products, SKUs, images and their approval."""

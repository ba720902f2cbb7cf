"""Orders: one per shop per checkout, their lifecycle, history and shipments."""

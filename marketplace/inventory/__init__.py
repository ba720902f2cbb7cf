"""Stock: levels per SKU and the movement ledger every change of stock is written to."""

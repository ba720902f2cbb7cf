"""Money: the double-entry ledger every movement of money is written to, tenders and the gateway."""

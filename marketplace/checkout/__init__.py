"""The cart and checkout: turning a shopper's cart into orders and one payment."""

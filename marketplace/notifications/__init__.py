"""Messages to people: email/SMS (through the notifications queue) and in-portal notices."""

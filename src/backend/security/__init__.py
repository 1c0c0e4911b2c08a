"""Password hashing and token issue/verification."""

"""Flow logic with no aiogram imports: reusable by any messenger adapter."""

"""`python -m bot.review`: migrate the store and serve the review app (waitress) on
GEHOOR_REVIEW_PORT (default 8000). Used by `make run` (bot/run.py)."""
from bot.review.app import serve

if __name__ == "__main__":
    serve()

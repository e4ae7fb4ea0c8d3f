"""Staff review app (Flask, server-rendered): inbox, story page, dashboard, exports, staff admin.

Entry points: `bot.review.app.create_app` and `bot.review.app.serve`; CLI in `bot.review.cli`.
"""

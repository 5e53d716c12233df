"""hoctap-bot: a Telegram bot for Vietnam's learning-society programme."""

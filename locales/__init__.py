"""gettext catalogues (`vi` default, `en`), read by bot.i18n and compiled in memory."""

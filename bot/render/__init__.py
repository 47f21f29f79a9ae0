"""Render replies as Telegram HTML; the console prints the same text through
:func:`bot.render.markup.html_to_text`.

One module per concern: :mod:`~bot.render.texts` (the fixed Chinese texts),
:mod:`~bot.render.markup` (escaping, length limits), :mod:`~bot.render.answers`
(passages and citations), :mod:`~bot.render.figures` (ledger lines and pairs),
:mod:`~bot.render.admin` (reloads, uploads, documents, statistics, refusals).
"""

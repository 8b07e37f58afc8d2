"""The clinical reading of a case: the SATS decision tree (``sats``), the case-text estimator
(``estimator``, ``estimator_rules``) and the typed-answer matcher (``answers``). Plain functions over
the knowledge and the text layer (``bot.language``); no conversation state, no I/O."""

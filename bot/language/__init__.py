"""The one text layer: folding, tokens, sentences and clauses, word forms, patterns, negation and time.

Everything that reads free text (the crisis screen now; the estimator, the answer matcher and search as
they move over) cuts and compares words here, so "pillene", "pilla" and "piller" mean the same thing
everywhere and a typo fixed for one reader is fixed for all.
"""

"""Text -> ids and back, in parts that :class:`vectorseq.vectorizer.TextVectorizer` composes.

In the order text flows: :mod:`.options` (every option's names, the one set of defaults, the checks),
:mod:`.standardize` (text -> text), :mod:`.split` (text -> tokens, and join back), :mod:`.vocabulary` (tokens ->
ids: the fixed special ids, counting, lookup, the idf formula), :mod:`.sentencepiece_backend` (``split=
"sentencepiece"``: subword training and encoding), :mod:`.output_modes` (one-hot, multi-hot, counts, TF-IDF),
:mod:`.batch` (padding) and :mod:`.persistence` (``vectorizer.json`` + ``sentencepiece.model``).
:mod:`.unicode_classes` and :mod:`.inputs` are small helpers of these.

Nothing is imported here: the config reads :mod:`.options` without loading torch or scikit-learn.
"""

"""Whole-folder and whole-corpus operations built on the package (nothing in the package imports them).

- :mod:`vectorseq.tools.extend_vocab`: give a trained model folder frozen pretrained vectors for source words
  outside its vocabulary, and load a :class:`~vectorseq.translator.Translator` that uses them
  (``vectorseq embeddings extend``, ``vectorseq translate --extend-vocab``);
- :mod:`vectorseq.tools.train_vectors`: train word2vec / fastText vectors on a corpus with gensim
  (``vectorseq embeddings train``).
"""

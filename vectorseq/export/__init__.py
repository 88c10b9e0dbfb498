"""Exports of a model folder to other inference engines, and those engines behind the Translator API.

- :mod:`vectorseq.export.ctranslate2`: :func:`export_model` writes a CTranslate2 model folder (or, with
  ``format="huggingface"``, a transformers MarianMT folder: :mod:`vectorseq.export.huggingface`);
- :mod:`vectorseq.export.ct2_translator`: :class:`CT2Translator` translates with it.
"""
from .ct2_translator import CT2Translator
from .ctranslate2 import EXPORT_FILE, FORMATS, build_ctranslate2_spec, check_exportable, export_model

__all__ = ["CT2Translator", "EXPORT_FILE", "FORMATS", "build_ctranslate2_spec", "check_exportable", "export_model"]

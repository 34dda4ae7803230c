"""Text models of cxlens: encoders, request types and other classifiers, sentiment, topics and script QA.

The shared parts live here: :class:`Texts` (a batch of texts that carries its vectors),
:class:`VectorStore`, and :class:`TextPipeline` with the registry of text components.
"""

from cxlens.nlp._pipeline import TextComponent, TextPipeline, get_text_component, get_text_component_names
from cxlens.nlp._texts import Texts, VectorStore, encoder_key

__all__ = ["TextComponent", "TextPipeline", "Texts", "VectorStore", "encoder_key", "get_text_component",
           "get_text_component_names"]

"""cxlens.nlp"""

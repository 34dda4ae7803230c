"""cxlens.models"""

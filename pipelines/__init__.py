"""cxlens.pipelines"""

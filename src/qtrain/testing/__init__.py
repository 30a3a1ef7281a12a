"""qtrain.testing"""

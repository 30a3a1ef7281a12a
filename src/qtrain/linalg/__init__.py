"""qtrain.linalg"""

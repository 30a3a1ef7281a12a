"""qtrain.cli"""

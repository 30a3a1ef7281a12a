"""qtrain.bench"""

"""qtrain.quantum"""

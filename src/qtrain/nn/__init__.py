"""qtrain.nn"""

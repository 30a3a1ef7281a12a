"""qtrain.train"""

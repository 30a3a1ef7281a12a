"""qtrain.data"""

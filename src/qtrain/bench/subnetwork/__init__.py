"""Benchmarks of quantum subnetwork selection: subnet-exact, subnet-digits, subnet-kd, subnet-nk."""

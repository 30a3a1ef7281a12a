"""QBO benchmarks: qbo-exact, qbo-qcgd, qbo-digits."""

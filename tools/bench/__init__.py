"""`marketnode bench`: throughput, latency, sync, query and memory benchmarks.

Benchmarks are not tests: they measure this machine and report ratios to
its own limits (the ed25519 signature bound) beside absolute figures.
"""

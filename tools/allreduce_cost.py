"""Measure all-reduce on this machine and tabulate the ring all-reduce cost model.

    mpirun -np 2 python -m mpi4py tools/allreduce_cost.py [--bytes 941608]

A ring all-reduce of B bytes over N ranks sends 2(N-1)/N * B bytes per rank in 2(N-1)
steps, so it costs about

    T(N) = 2(N-1)/N * B / bandwidth + 2(N-1) * latency.

The latency and bandwidth of this machine's loopback are measured here (all-reduce of
8 bytes, and of 16 MB, through ``autograd.distributed``; medians of repeated runs); the
table adds typical datacentre figures for comparison.  ``--bytes`` is the gradient size
(the default: examples/distributed_mnist.py's MLP, 235,402 float32 parameters).
"""
import argparse
import os
import sys
import time

import numpy

try:
    import autograd
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import autograd
import autograd.distributed as dist

LINKS = [  # name, latency (s), bandwidth (bytes/s): typical figures, not measured here
    ('InfiniBand HDR (200 Gb/s)', 2e-6, 25e9),
    ('NVLink-class links with NCCL', 10e-6, 200e9),
    ('10 Gb Ethernet', 30e-6, 1.25e9),
]
RANKS = [2, 4, 8, 16, 64, 256, 1024]


def timed(nbytes, repeats, rounds=7):
    """Seconds per all-reduce of ``nbytes``: ``repeats`` back to back, median of ``rounds``
    (back to back, so that no rank's late start after a barrier is counted)."""
    t = autograd.zeros(max(nbytes // 4, 1), dtype=autograd.float32)
    dist.all_reduce(t)                  # warm up
    times = []
    for _ in range(rounds):
        dist.barrier()
        start = time.perf_counter()
        for _ in range(repeats):
            dist.all_reduce(t)
        times.append((time.perf_counter() - start) / repeats)
    return float(numpy.median(times))


def ring(n, nbytes, latency, bandwidth):
    return 2 * (n - 1) / n * nbytes / bandwidth + 2 * (n - 1) * latency


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--bytes', type=int, default=235402 * 4)
    args = p.parse_args()
    dist.init_process_group('mpi')
    n = dist.get_world_size()
    small = timed(8, 1000)
    big = timed(16 << 20, 10)
    # T = 2(n-1)/n B/bw + 2(n-1) lat, solved from the two sizes
    latency = small / (2 * (n - 1))
    bandwidth = 2 * (n - 1) / n * (16 << 20) / max(big - small, 1e-9)
    grad = timed(args.bytes, 50)
    if dist.get_rank() == 0:
        print(f'measured on {n} ranks (loopback): all-reduce of 8 B {small * 1e6:.1f} us, '
              f'16 MB {big * 1e3:.2f} ms, {args.bytes:,} B {grad * 1e3:.3f} ms; '
              f'fitted latency {latency * 1e6:.1f} us, bandwidth {bandwidth / 1e9:.2f} GB/s')
        links = [('this machine, loopback (measured)', latency, bandwidth)] + LINKS
        print(f'\nring all-reduce of {args.bytes:,} bytes, ms per step:\n')
        print('| link | ' + ' | '.join(f'N={k}' for k in RANKS) + ' |')
        print('|---|' + '---|' * len(RANKS))
        for name, lat, bw in links:
            print(f'| {name} | ' + ' | '.join(f'{ring(k, args.bytes, lat, bw) * 1e3:.3g}'
                                              for k in RANKS) + ' |')
    dist.destroy_process_group()


if __name__ == '__main__':
    main()

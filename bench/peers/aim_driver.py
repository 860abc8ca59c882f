"""Aim side of the Cairn benchmark (driven by bench/lib/drivers/aim.mjs).

Aim's remote tracking server speaks its own protocol, so, as Aim users mostly do, this writes
with the SDK straight into a local repository and reads it back with the SDK. There is no
server process: the memory measured for Aim is this driver's process tree (writers included).

  aim_driver.py ingest --repo DIR --spec JSON --out FILE   -> JSON summary written to FILE
  aim_driver.py read   --repo DIR --spec JSON --out FILE   -> JSON latencies (ms) written to FILE

value() and metric_name() must stay identical to bench/lib/workload.mjs.
"""

import argparse
import json
import multiprocessing as mp
import os
import sys
import time

MOD = 2_147_483_647


def value(run, metric, step):
    h = (run * 1_000_003 + metric * 10_007 + step * 31 + 12_345) % MOD
    h = (h * 48_271) % MOD
    return 1 / (1 + step / 100) + 0.05 * (h / MOD) + metric * 0.001


def metric_name(metric):
    return f'm{metric:04d}'


def open_run(repo, name=None, run_hash=None):
    from aim import Run

    # No background system-metrics thread, no terminal capture: only what the benchmark logs.
    run = Run(
        run_hash=run_hash,
        repo=repo,
        experiment='bench',
        system_tracking_interval=None,
        log_system_params=False,
        capture_terminal_logs=False,
    )
    if name is not None:
        run.name = name
    return run


def write_runs(args):
    """One writer process: its runs one after the other, each in step order, all metrics per step.

    Aim locks a run to one writing process, so a run cannot be split over writers as the HTTP
    systems' streams are (this is why Long has a single Aim writer).
    """
    repo, run_indices, metrics, steps, deadline = args
    out = []
    for r in run_indices:
        if time.time() >= deadline:
            out.append({'run': r, 'hash': None, 'stepsDone': 0})
            continue
        run = open_run(repo, name=f'run-{r}')
        done = 0
        for step in range(steps):
            if time.time() >= deadline:
                break
            for m in range(metrics):
                run.track(value(r, m, step), name=metric_name(m), step=step)
            done = step + 1
        out.append({'run': r, 'hash': run.hash, 'stepsDone': done})
        run.close()
    return out


def index_runs(repo_path, hashes):
    """Finished runs become visible to Repo readers only once merged into the index (what
    `aim up`'s background indexer does); done explicitly and timed as part of ingest."""
    from aim import Repo
    from aim.sdk.index_manager import RepoIndexManager

    repo = Repo.from_path(repo_path)
    manager = RepoIndexManager.get_index_manager(repo)
    for h in hashes:
        manager.index(h)


def cmd_ingest(repo, spec):
    # Create the repo in a throwaway process: a Repo object (and its SQLite connection) made
    # here would be inherited by the forked writers. Importing the SDK is safe and saves each
    # writer the import time.
    import subprocess

    import aim.sdk  # noqa: F401

    code = 'import sys; from aim import Repo; Repo.from_path(sys.argv[1], init=True)'
    subprocess.run([sys.executable, '-c', code, repo], check=True)
    runs, metrics, steps = spec['runs'], spec['metrics'], spec['steps']
    procs = max(1, min(spec['writers'], runs))
    assignment = [[r for r in range(runs) if r % procs == p] for p in range(procs)]
    t0 = time.perf_counter()
    deadline = time.time() + spec['deadlineSeconds']
    with mp.get_context('fork').Pool(procs) as pool:
        parts = pool.map(write_runs, [(repo, a, metrics, steps, deadline) for a in assignment], chunksize=1)
    t_write = time.perf_counter() - t0
    results = sorted((x for part in parts for x in part), key=lambda x: x['run'])
    hashes = [x['hash'] for x in results if x['hash']]
    t1 = time.perf_counter()
    index_runs(repo, hashes)
    t_index = time.perf_counter() - t1
    points = sum(x['stepsDone'] for x in results) * metrics
    timed_out = any(x['stepsDone'] < steps for x in results)

    # Long: complete the series the downsampling read needs (untimed), as for the HTTP systems.
    fill = {'written': 0, 'seconds': 0}
    target = spec.get('completeSeries')
    if target:
        rec = next(x for x in results if x['run'] == target['run'])
        if rec['stepsDone'] < target['steps']:
            t2 = time.perf_counter()
            if rec['hash'] is None:
                run = open_run(repo, name=f"run-{target['run']}")
                rec['hash'] = run.hash
            else:
                run = open_run(repo, run_hash=rec['hash'])
            for step in range(rec['stepsDone'], target['steps']):
                run.track(value(target['run'], target['metric'], step), name=metric_name(target['metric']), step=step)
            run.close()
            index_runs(repo, [rec['hash']])
            fill = {'written': target['steps'] - rec['stepsDone'], 'seconds': time.perf_counter() - t2}

    fx = spec['fixture']
    run = open_run(repo, name='fixture')
    for step in range(fx['steps']):
        run.track(value(fx['valueRun'], fx['metric'], step), name=fx['name'], step=step)
    fixture_hash = run.hash
    run.close()
    index_runs(repo, [fixture_hash])

    seconds = t_write + t_index
    return {
        'points': points,
        'seconds': seconds,
        'writeSeconds': t_write,
        'indexSeconds': t_index,
        'pointsPerSecond': points / seconds if seconds else 0,
        'writers': procs,
        'timedOut': timed_out,
        'runs': results,
        'fixtureHash': fixture_hash,
        'fill': fill,
    }


def cmd_read(repo_path, spec):
    from aim import Repo
    from aim.storage.context import Context

    repo = Repo.from_path(repo_path)
    ctx = Context({})

    def metric(run_hash, name):
        run = repo.get_run(run_hash)
        if run is None:
            raise RuntimeError(f'run {run_hash} not found in the repo index')
        m = run.get_metric(name, ctx)
        if m is None:
            raise RuntimeError(f'metric {name} not found in run {run_hash}')
        return m

    failures = []
    verified = []
    for v in spec['verify']:
        steps, _ = metric(v['hash'], v['metric']).data.numpy()
        verified.append({**v, 'actual': len(steps)})
        if len(steps) != v['expected']:
            failures.append(f"{v['hash']}/{v['metric']}: {len(steps)} points, expected {v['expected']}")
    if failures:
        raise SystemExit('Aim verification failed: ' + '; '.join(failures))

    def measure(op):
        for _ in range(spec['warmup']):
            op()
        samples = []
        deadline = time.perf_counter() + spec['budgetSeconds']
        while len(samples) < spec['iterations'] and time.perf_counter() < deadline:
            t = time.perf_counter()
            n = op()
            samples.append((time.perf_counter() - t) * 1000)
            last = n
        return {'samplesMs': samples, 'points': last}

    out = {'verified': verified}
    full = spec['full']
    out['full'] = measure(lambda: len(metric(full['hash'], full['metric']).data.numpy()[0]))
    ds = spec.get('downsample')
    if ds:
        # Aim's only sampling call; on numeric (v2) sequences it keeps k stored points, not buckets.
        out['downsample'] = measure(
            lambda: len(metric(ds['hash'], ds['metric']).data.sample(ds['buckets']).numpy()[0])
        )
    ch = spec['chart']

    def chart():
        return sum(
            len(metric(h, name).data.sample(ch['buckets']).numpy()[0]) for h in ch['hashes'] for name in ch['metrics']
        )

    out['chart'] = measure(chart)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument('command', choices=['ingest', 'read'])
    p.add_argument('--repo', required=True)
    p.add_argument('--spec', required=True)
    p.add_argument('--out', required=True)
    a = p.parse_args()
    spec = json.loads(a.spec)
    os.makedirs(a.repo, exist_ok=True)
    result = cmd_ingest(a.repo, spec) if a.command == 'ingest' else cmd_read(a.repo, spec)
    with open(a.out, 'w') as f:
        json.dump(result, f)


if __name__ == '__main__':
    main()

// The home's Prometheus metrics (prom-client, one registry per server so two servers in a process never mix):
// users and open logs, appends, commits and bytes (rates come from the counters), fsync latency, replica lag,
// requests by route and status, and prom-client's process metrics (open fds, RSS, event-loop lag) unless turned off.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

export class HomeMetrics {
  readonly registry = new Registry()
  readonly appends: Counter
  readonly appendCommits: Counter
  readonly appendBytes: Counter
  readonly fsyncSeconds: Histogram
  readonly replicaLag: Histogram
  readonly requests: Counter<'route' | 'status'>

  /**
   * `processMetrics`: also export prom-client's process metrics. Collecting them installs process-wide observers
   * (GC, event-loop delay) that stay for the life of the process, one set per home.
   */
  constructor(gauges: { users: () => number; openLogs: () => number; tails: () => number }, processMetrics = true) {
    const registers = [this.registry]
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'homedb_process_' })
    new Gauge({
      name: 'homedb_users',
      help: 'Users homed on this server.',
      registers,
      collect() {
        this.set(gauges.users())
      },
    })
    new Gauge({
      name: 'homedb_open_logs',
      help: 'User logs open now (bounded by maxOpenLogs while they are not in use).',
      registers,
      collect() {
        this.set(gauges.openLogs())
      },
    })
    new Gauge({
      name: 'homedb_waiting_tails',
      help: 'Long-poll tails waiting for new commits.',
      registers,
      collect() {
        this.set(gauges.tails())
      },
    })
    this.appends = new Counter({ name: 'homedb_appends_total', help: 'Acknowledged append requests.', registers })
    this.appendCommits = new Counter({
      name: 'homedb_append_commits_total',
      help: 'Commits appended (frames new to the home).',
      registers,
    })
    this.appendBytes = new Counter({ name: 'homedb_append_bytes_total', help: 'Frame bytes appended.', registers })
    this.fsyncSeconds = new Histogram({
      name: 'homedb_append_fsync_seconds',
      help: 'Time from an append being queued to its frames being durable (the fdatasync it waited for).',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1],
      registers,
    })
    this.replicaLag = new Histogram({
      name: 'homedb_replica_lag_commits',
      help: 'Commits between the home head and the position a replica confirmed, observed at each confirmation.',
      buckets: [0, 1, 10, 100, 1000, 10_000, 100_000],
      registers,
    })
    this.requests = new Counter({
      name: 'homedb_requests_total',
      help: 'Requests answered, by route and status.',
      labelNames: ['route', 'status'],
      registers,
    })
  }

  text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }
}

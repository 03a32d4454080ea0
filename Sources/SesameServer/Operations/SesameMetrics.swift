import CoreMetrics
import Foundation
import Metrics
import Prometheus
import SesameStorage
import Synchronization

/// The server's metrics, recorded through swift-metrics into a Prometheus registry of this runtime's own
/// (no process-wide bootstrap, so several servers in one process, as the tests run them, keep theirs apart),
/// and written in the Prometheus text format (0.0.4) by `GET /metrics` on `SESAME_METRICS_ADDRESS`.
///
/// Families (all prefixed `sesame_`): `http_requests_total{method,route,status}` and
/// `http_request_duration_seconds{method,route}` (histogram), `token_grants_total{grant_type,client_kind}`,
/// `sign_ins_total{method,result}`, `codes_sent_total{connector,result}`, `rate_limit_refusals_total{route}`,
/// `database_connections_in_use`, `database_connection_leases_total`, `database_connection_wait_seconds_total`,
/// and `signing_key_age_seconds{alg}`.
public final class SesameMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])
    /// The request series by method, route and status, looked up without building a string per request.
    private let requestSeries = Mutex<[RequestKey: RequestSeries]>([:])

    private struct RequestKey: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    private struct RequestSeries {
        let count: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
    }
    /// The database statistics last turned into counters, so each scrape adds only what happened since.
    private let lastDatabase = Mutex(ConnectionStatistics.Snapshot())

    public init() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10),
        ]
        self.factory = factory
    }

    /// The counter `name` with `dimensions`, made once and kept.
    func counter(_ name: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        Self.cached(counters, name, dimensions) { CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory) }
    }

    private func timer(_ name: String, _ dimensions: [(String, String)]) -> CoreMetrics.Timer {
        Self.cached(timers, name, dimensions) { CoreMetrics.Timer(label: name, dimensions: dimensions, factory: factory) }
    }

    private static func cached<Metric>(_ cache: borrowing Mutex<[String: Metric]>, _ name: String,
                                       _ dimensions: [(String, String)], make: () -> Metric) -> Metric
    {
        let key = name + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return cache.withLock { cache in
            if let metric = cache[key] { return metric }
            let metric = make()
            cache[key] = metric
            return metric
        }
    }

    /// One answered request. `route` is the matched route's pattern (`/console/users/{id}`), never the raw
    /// path, so ids and tokens never become label values.
    func request(method: String, route: String, status: Int, duration: Duration) {
        let key = RequestKey(method: method, route: route, status: status)
        let series = requestSeries.withLock { $0[key] } ?? {
            let made = RequestSeries(
                count: counter("sesame_http_requests_total",
                               [("method", method), ("route", route), ("status", String(status))]),
                duration: timer("sesame_http_request_duration_seconds", [("method", method), ("route", route)]))
            requestSeries.withLock { $0[key] = made }
            return made
        }()
        series.count.increment()
        series.duration.record(duration: duration)
        if status == 429 { counter("sesame_rate_limit_refusals_total", [("route", route)]).increment() }
    }

    /// A token issued: `grantType` as requested, `clientKind` `confidential` (authenticated with a secret) or
    /// `public`.
    func tokenGranted(grantType: String, clientKind: String) {
        counter("sesame_token_grants_total", [("grant_type", grantType), ("client_kind", clientKind)]).increment()
    }

    /// A sign-in attempt: `method` `password` or `verificationCode`, `result` `success` or `failure`.
    func signIn(method: String, result: String) {
        counter("sesame_sign_ins_total", [("method", method), ("result", result)]).increment()
    }

    /// A verification code handed to a connector: `result` `success` or `failure`.
    func codeSent(connector: String, result: String) {
        counter("sesame_codes_sent_total", [("connector", connector), ("result", result)]).increment()
    }

    /// An organization invitation handed to a connector: `result` `success` or `failure`.
    func invitationSent(connector: String, result: String) {
        counter("sesame_invitations_sent_total", [("connector", connector), ("result", result)]).increment()
    }

    /// The text format, after bringing the gauges read at scrape time up to date.
    func scrape(database: ConnectionStatistics?, signingKeys: [(algorithm: String, createdAt: Date)], now: Date)
        -> [UInt8]
    {
        if let database {
            let current = database.snapshot
            let previous = lastDatabase.withLock { last in
                defer { last = current }
                return last
            }
            CoreMetrics.Gauge(label: "sesame_database_connections_in_use", factory: factory).record(current.inUse)
            counter("sesame_database_connection_leases_total", []).increment(by: max(0, current.leases - previous.leases))
            CoreMetrics.FloatingPointCounter(label: "sesame_database_connection_wait_seconds_total", factory: factory)
                .increment(by: max(0, current.waitSeconds - previous.waitSeconds))
        }
        for key in signingKeys {
            CoreMetrics.Gauge(label: "sesame_signing_key_age_seconds", dimensions: [("alg", key.algorithm)], factory: factory)
                .record(now.timeIntervalSince(key.createdAt))
        }
        return registry.emitToBuffer()
    }
}

import Foundation
import Logging
import Synchronization

/// Standard error, buffered off the request path: a request's log line is appended to memory, and a
/// background thread writes what has gathered every 50 ms (at once when 64 KiB have gathered, or for a line
/// at `error` or above), so a busy server makes a few large writes instead of one small write per request.
/// `flush()` writes everything now (the server calls it when it stops). A process killed outright loses at
/// most the last 50 ms of lines.
public final class LogOutput: Sendable {
    /// The process's standard error.
    public static let standardError = LogOutput(descriptor: 2)

    private let descriptor: Int32
    private let pending = Mutex<[UInt8]>([])
    /// Serializes writes, so lines never interleave and keep their order.
    private let writing = Mutex(())
    static let interval: UInt32 = 50_000  // microseconds
    static let threshold = 64 * 1024

    init(descriptor: Int32) {
        self.descriptor = descriptor
        Thread.detachNewThread { [self] in
            while true {
                usleep(Self.interval)
                flush()
            }
        }
    }

    /// Appends `line` (which ends with a newline); `urgent` lines and a full buffer are written at once.
    public func write(_ line: String, urgent: Bool = false) {
        let isFull = pending.withLock { buffer in
            buffer.append(contentsOf: line.utf8)
            return buffer.count >= Self.threshold
        }
        if urgent || isFull { flush() }
    }

    /// Writes everything gathered so far.
    public func flush() {
        writing.withLock { _ in
            let bytes = pending.withLock { buffer in
                defer { buffer.removeAll(keepingCapacity: true) }
                return buffer
            }
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
                if written <= 0 { break }
                offset += written
            }
        }
    }
}

/// Sesame's text log lines, as swift-log's `StreamLogHandler` writes them
/// (`2026-12-01T10:30:00+0000 info sesame: method=GET path=/oidc/jwks request_id=… status=200 [SesameServer] request`),
/// through a `LogOutput`; the timestamp is formatted once a second, not once a line.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let output: LogOutput

    public init(label: String, output: LogOutput = .standardError) {
        self.label = label
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var line = Timestamp.current() + " " + event.level.rawValue + " " + label + ":"
        for key in merged.keys.sorted() { line += " \(key)=\(merged[key]!)" }
        line += " [\(event.source)] \(event.message)\n"
        output.write(line, urgent: event.level >= .error)
    }

    /// `2026-12-01T10:30:00+0000`, in local time like `StreamLogHandler`'s, remade when the second changes.
    enum Timestamp {
        private static let cache = Mutex<(second: Int, text: String)>((-1, ""))

        static func current() -> String {
            var now = time(nil)
            let second = Int(now)
            if let text = cache.withLock({ $0.second == second ? $0.text : nil }) { return text }
            var local = tm()
            localtime_r(&now, &local)
            var buffer = [Int8](repeating: 0, count: 64)
            let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
            let text = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            cache.withLock { $0 = (second, text) }
            return text
        }
    }
}

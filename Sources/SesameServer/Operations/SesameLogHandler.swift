import Foundation
import Logging
import Synchronization

/// Sesame's log handler: one line per event, through `LogOutput` (buffered off the request path), in the
/// format `SESAME_LOG_FORMAT` chose:
/// - `text`, as swift-log's `StreamLogHandler` writes it:
///   `2026-12-01T10:30:00+0000 info sesame: method=GET path=/oidc/jwks request_id=… status=200 [SesameServer] request`
///   (the timestamp formatted once a second, not once a line);
/// - `json`, one object per line for log shippers (Loki, Elastic, CloudWatch):
///   `{"time":"2026-12-01T10:30:00.123Z","level":"info","label":"sesame","message":"request","request_id":"…",…}`,
///   metadata values as strings, keys sorted after the fixed four.
public struct SesameLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let format: ServerConfiguration.LogFormat
    private let output: LogOutput

    public init(label: String, format: ServerConfiguration.LogFormat, output: LogOutput = .standardError) {
        self.label = label
        self.format = format
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let line = switch format {
        case .json: Self.jsonLine(time: Date(), level: event.level, label: label, message: "\(event.message)",
                                  metadata: merged)
        case .text: Self.textLine(level: event.level, label: label, source: event.source,
                                  message: "\(event.message)", metadata: merged)
        }
        output.write(line, urgent: event.level >= .error)
    }

    /// One text line, newline included.
    static func textLine(level: Logger.Level, label: String, source: String, message: String,
                         metadata: Logger.Metadata) -> String
    {
        var line = Self.timestamp.current() + " " + level.rawValue + " " + label + ":"
        for key in metadata.keys.sorted() { line += " \(key)=\(metadata[key]!)" }
        return line + " [\(source)] \(message)\n"
    }

    /// One JSON line, newline included.
    public static func jsonLine(time: Date, level: Logger.Level, label: String, message: String,
                                metadata: Logger.Metadata) -> String
    {
        var fields = [("time", timestamp(time)), ("level", level.rawValue), ("label", label), ("message", message)]
        for key in metadata.keys.sorted() where !["time", "level", "label", "message"].contains(key) {
            fields.append((key, "\(metadata[key]!)"))
        }
        return "{" + fields.map { quote($0.0) + ":" + quote($0.1) }.joined(separator: ",") + "}\n"
    }

    /// RFC 3339 UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true)
            .timeSeparator(.colon).timeZone(separator: .omitted))
    }

    /// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped.
    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// `2026-12-01T10:30:00+0000`, in local time like `StreamLogHandler`'s, remade when the second changes.
    static let timestamp = SecondText(format: "%Y-%m-%dT%H:%M:%S%z", utc: false)
}

/// The current time formatted with `strftime`, made once a second and shared by every thread: log lines' timestamps,
/// the `Date` header.
final class SecondText: Sendable {
    private let format: String
    private let utc: Bool
    private let cache = Mutex<(second: Int, text: String)>((-1, ""))

    /// `format`: a `strftime` format; `utc`: UTC rather than local time.
    init(format: String, utc: Bool) {
        self.format = format
        self.utc = utc
    }

    func current() -> String {
        var now = time(nil)
        let second = Int(now)
        if let text = cache.withLock({ $0.second == second ? $0.text : nil }) { return text }
        var parts = tm()
        if utc { gmtime_r(&now, &parts) } else { localtime_r(&now, &parts) }
        var buffer = [Int8](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, format, &parts)
        let text = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        cache.withLock { $0 = (second, text) }
        return text
    }
}

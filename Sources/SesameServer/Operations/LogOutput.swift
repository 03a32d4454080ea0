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

import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import SesameOIDC
import SesameStorage

/// Everything the server reads at start, validated once. Sources, first match wins: command-line flags,
/// then the environment, then a JSON configuration file (`--config` or `SESAME_CONFIG`), then defaults.
public struct ServerConfiguration: Sendable {
    /// The public base URL, no trailing slash; the issuer is `endpoint + "/oidc"`.
    public var endpoint: String
    public var host: String
    public var port: Int
    public var databaseURL: String
    public var secret: String
    public var logLevel: Logger.Level
    /// Development defaults in use, each worth one warning at start.
    public var developmentDefaults: [String]
    /// `SESAME_DEV_MAILBOX=1`: keep sent codes readable at `/dev/mailbox` (refused with an https endpoint).
    public var isDevMailboxEnabled: Bool
    /// The step by which answers to repeated wrong passwords slow down (from the third failure).
    public var passwordFailureDelay: Duration = .milliseconds(250)
    /// The file the secret was read from when `SESAME_SECRET` is unset (the generated development secret).
    public var secretFile: String?
    /// `SESAME_TRUSTED_PROXIES`: the reverse proxies whose forwarding headers name the client (default none).
    public var trustedProxies = TrustedProxies()
    /// How long a rotated-in signing key is published before it signs (tests shorten it).
    public var keyActivationDelay: TimeInterval = 70
    /// `SESAME_METRICS_ADDRESS` (`127.0.0.1:9464`, `[::1]:9464`): where `GET /metrics` listens, apart from the
    /// public listener; nil (the default) serves no metrics.
    public var metricsAddress: (host: String, port: Int)?
    /// `SESAME_LOG_FORMAT`: `text` (default) or `json`, one object per line for log shippers.
    public var logFormat: LogFormat = .text
    /// `SESAME_SIGNING_ALG`: the default signing algorithm (ES384; ES256, RS256 or EdDSA): access tokens for API
    /// resources and the ID tokens of applications that chose none.
    public var defaultSigningAlgorithm: SigningAlgorithm = .es384

    /// How log lines are written.
    public enum LogFormat: String, Sendable {
        case text, json
    }

    public var issuer: String { endpoint + "/oidc" }
    public var isSecure: Bool { endpoint.hasPrefix("https://") }
    /// The host people reach Sesame at (from `endpoint`, lower case): the TOTP issuer and the WebAuthn RP ID.
    public var endpointHost: String { (URLComponents(string: endpoint)?.host ?? host).lowercased() }
    /// `endpoint`'s origin as browsers serialize it (RFC 6454: lower-case scheme and host, no default port):
    /// where WebAuthn ceremonies must come from.
    public var endpointOrigin: String {
        guard let url = URLComponents(string: endpoint), let scheme = url.scheme?.lowercased(), url.host != nil else {
            return endpoint
        }
        let isDefault = (scheme == "https" && url.port == 443) || (scheme == "http" && url.port == 80)
        return scheme + "://" + endpointHost + (url.port.map { isDefault ? "" : ":\($0)" } ?? "")
    }

    public init(endpoint: String = "http://localhost:3001", host: String = "127.0.0.1", port: Int = 3001,
                databaseURL: String = "sqlite://./sesame.db", secret: String, logLevel: Logger.Level = .info,
                developmentDefaults: [String] = [], isDevMailboxEnabled: Bool = false)
    {
        self.isDevMailboxEnabled = isDevMailboxEnabled
        self.endpoint = endpoint
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.secret = secret
        self.logLevel = logLevel
        self.developmentDefaults = developmentDefaults
    }
}

/// A setting that failed validation; the message names it.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Reads and validates the configuration.
public struct ConfigurationLoader: Sendable {
    public static let keys = ["SESAME_ENDPOINT", "SESAME_HOST", "SESAME_PORT", "SESAME_DB", "SESAME_SECRET",
                              "SESAME_LOG_LEVEL", "SESAME_DEV_MAILBOX", "SESAME_TRUSTED_PROXIES", "SESAME_TRUSTED_PROXY_HEADER",
                              "SESAME_METRICS_ADDRESS", "SESAME_LOG_FORMAT", "SESAME_SIGNING_ALG"]

    public var flags: [String: String]
    public var environment: [String: String]
    /// Where a generated development secret is kept when SESAME_SECRET is unset.
    public var secretFile: String

    public init(flags: [String: String] = [:], environment: [String: String] = ProcessInfo.processInfo.environment,
                secretFile: String = "./sesame.secret")
    {
        self.flags = flags
        self.environment = environment
        self.secretFile = secretFile
    }

    public func load() throws -> ServerConfiguration {
        let file = try fileValues()
        func value(_ key: String) -> String? {
            for source in [flags, environment, file] {
                // Line ends too: a secret mounted from a file usually ends with one.
                if let value = source[key]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
                    return value
                }
            }
            return nil
        }
        var defaults: [String] = []

        let endpoint = try Self.endpoint(value("SESAME_ENDPOINT") ?? "http://localhost:3001")
        let host = value("SESAME_HOST") ?? "127.0.0.1"
        let portText = value("SESAME_PORT") ?? "3001"
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ConfigurationError("SESAME_PORT: '\(portText)' is not a port number (0-65535)")
        }
        let databaseURL = value("SESAME_DB") ?? "sqlite://./sesame.db"
        if let problem = DatabaseURL.validate(databaseURL) { throw ConfigurationError("SESAME_DB: \(problem)") }
        if value("SESAME_DB") == nil { defaults.append("SESAME_DB is not set: using the local SQLite file ./sesame.db") }
        let levelText = (value("SESAME_LOG_LEVEL") ?? "info").lowercased()
        guard let logLevel = Logger.Level(rawValue: levelText) else {
            throw ConfigurationError("SESAME_LOG_LEVEL: '\(levelText)' is not one of trace, debug, info, notice, "
                + "warning, error, critical")
        }
        let secret: String
        if let configured = value("SESAME_SECRET") {
            guard configured.utf8.count >= 32 else {
                throw ConfigurationError("SESAME_SECRET: must be at least 32 characters (try: openssl rand -hex 32)")
            }
            secret = configured
        } else {
            secret = try developmentSecret()
            defaults.append("SESAME_SECRET is not set: using the generated secret in \(secretFile); set "
                + "SESAME_SECRET to its content (or your own 32+ characters) before production")
        }
        let mailbox = value("SESAME_DEV_MAILBOX")
        guard mailbox == nil || ["0", "1"].contains(mailbox) else {
            throw ConfigurationError("SESAME_DEV_MAILBOX: must be 0 or 1")
        }
        if mailbox == "1" {
            guard !endpoint.hasPrefix("https://") else {
                throw ConfigurationError("SESAME_DEV_MAILBOX: the development mailbox is refused with an https endpoint")
            }
            defaults.append("SESAME_DEV_MAILBOX=1: sent codes are readable at /dev/mailbox")
        }
        if let live = environment["SESAME_LIVE_RESOURCES"], !live.isEmpty {
            defaults.append("SESAME_LIVE_RESOURCES is set: templates, styles and phrases are read from \(live) on "
                + "every request (development only)")
        }
        var configuration = ServerConfiguration(endpoint: endpoint, host: host, port: port, databaseURL: databaseURL,
                                                secret: secret, logLevel: logLevel, developmentDefaults: defaults,
                                                isDevMailboxEnabled: mailbox == "1")
        configuration.trustedProxies = try TrustedProxies(parsing: value("SESAME_TRUSTED_PROXIES") ?? "",
                                                          header: value("SESAME_TRUSTED_PROXY_HEADER"))
        if value("SESAME_SECRET") == nil { configuration.secretFile = secretFile }
        if let address = value("SESAME_METRICS_ADDRESS") { configuration.metricsAddress = try Self.address(address) }
        let format = (value("SESAME_LOG_FORMAT") ?? "text").lowercased()
        guard let logFormat = ServerConfiguration.LogFormat(rawValue: format) else {
            throw ConfigurationError("SESAME_LOG_FORMAT: '\(format)' is not one of text, json")
        }
        configuration.logFormat = logFormat
        if let name = value("SESAME_SIGNING_ALG") {
            guard let algorithm = SigningAlgorithm(rawValue: name) else {
                throw ConfigurationError("SESAME_SIGNING_ALG: '\(name)' is not one of ES384, ES256, RS256, EdDSA")
            }
            configuration.defaultSigningAlgorithm = algorithm
        }
        return configuration
    }

    /// `HOST:PORT` or `[IPV6]:PORT`.
    static func address(_ raw: String) throws -> (host: String, port: Int) {
        let host: Substring
        let portText: Substring
        if raw.hasPrefix("["), let close = raw.firstIndex(of: "]"), raw[raw.index(after: close)...].hasPrefix(":") {
            host = raw[raw.index(after: raw.startIndex)..<close]
            portText = raw[raw.index(close, offsetBy: 2)...]
        } else if let colon = raw.lastIndex(of: ":"), !raw[..<colon].contains(":") {
            host = raw[..<colon]
            portText = raw[raw.index(after: colon)...]
        } else {
            throw ConfigurationError("SESAME_METRICS_ADDRESS: '\(raw)' must be HOST:PORT, like 127.0.0.1:9464")
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else {
            throw ConfigurationError("SESAME_METRICS_ADDRESS: '\(raw)' must be HOST:PORT, like 127.0.0.1:9464")
        }
        return (String(host), port)
    }

    static func endpoint(_ raw: String) throws -> String {
        var value = raw
        while value.hasSuffix("/") { value.removeLast() }
        guard let components = URLComponents(string: value), let scheme = components.scheme,
              ["http", "https"].contains(scheme), components.host?.isEmpty == false, components.query == nil,
              components.fragment == nil, components.user == nil
        else {
            throw ConfigurationError("SESAME_ENDPOINT: '\(raw)' must be an absolute http(s) URL without query or "
                + "fragment, like https://auth.example.com")
        }
        return value
    }

    private func fileValues() throws -> [String: String] {
        guard let path = flags["SESAME_CONFIG"] ?? environment["SESAME_CONFIG"] else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("SESAME_CONFIG: cannot read '\(path)'")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError("SESAME_CONFIG: '\(path)' is not a JSON object")
        }
        var values: [String: String] = [:]
        for (key, value) in object {
            guard Self.keys.contains(key) else {
                throw ConfigurationError("SESAME_CONFIG: unknown setting '\(key)' (known: \(Self.keys.joined(separator: ", ")))")
            }
            switch value {
            case let string as String: values[key] = string
            case let number as NSNumber: values[key] = number.stringValue
            default: throw ConfigurationError("\(key): must be a string or a number in \(path)")
            }
        }
        return values
    }

    /// Reads the generated secret, creating it (owner-only) on first start.
    private func developmentSecret() throws -> String {
        if let data = FileManager.default.contents(atPath: secretFile) {
            guard let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
                  text.utf8.count >= 32
            else {
                // Never replaced silently: the database may be sealed with it.
                throw ConfigurationError("SESAME_SECRET: not set, and \(secretFile) does not hold a secret of 32 or "
                    + "more characters; fix or remove it")
            }
            return text
        }
        let secret = SecretGenerator.hex(bytes: 32)
        do {
            try SecretFile.write(secret + "\n", to: secretFile)
        } catch {
            throw ConfigurationError("SESAME_SECRET: not set, and \(secretFile) cannot be written")
        }
        return secret
    }
}

/// Writes a secret to a file that is never readable by anyone but the owner, not even for a moment: created
/// with mode 0600 (and set to 0600 if it existed), written, flushed to disk.
public enum SecretFile {
    public struct WriteError: Error, Sendable, CustomStringConvertible {
        public let path: String
        public var description: String { "\(path) cannot be written" }
    }

    public static func write(_ contents: String, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw WriteError(path: path) }
        defer { close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else { throw WriteError(path: path) }
        let bytes = Array(contents.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard result > 0 else { throw WriteError(path: path) }
            written += result
        }
        guard fsync(descriptor) == 0 else { throw WriteError(path: path) }
    }
}

enum SecretGenerator {
    static func hex(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in String(UInt8.random(in: 0...255, using: &generator), radix: 16) }
            .map { $0.count == 1 ? "0" + $0 : $0 }.joined()
    }
}

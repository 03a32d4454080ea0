import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SesameOIDC

/// The configuration Logto's Aliyun Direct Mail connector takes, plus `regionId` and `endpoint`.
public struct AliyunDirectMailConfig: Sendable, Equatable {
    public var accessKeyId: String
    public var accessKeySecret: String
    public var accountName: String
    public var fromAlias: String?
    public var regionId: String
    public var endpoint: String
    public var templates: [MessageTemplate]

    public static let defaultEndpoint = "https://dm.aliyuncs.com/"

    public init(_ json: JSONValue) throws {
        let reader = try ConfigReader(json)
        accessKeyId = try reader.string("accessKeyId")
        accessKeySecret = try reader.string("accessKeySecret")
        accountName = try reader.string("accountName")
        guard accountName.contains("@") else {
            throw ConnectorError.invalidConfig("'accountName' must be the sender address set up in Direct Mail")
        }
        fromAlias = try reader.optionalString("fromAlias")
        regionId = try reader.optionalString("regionId") ?? "cn-hangzhou"
        endpoint = try reader.optionalString("endpoint") ?? Self.defaultEndpoint
        guard let url = URL(string: endpoint), let scheme = url.scheme, ["http", "https"].contains(scheme),
              url.host?.isEmpty == false, url.query == nil
        else { throw ConnectorError.invalidConfig("'endpoint' must be an http(s) URL such as \(Self.defaultEndpoint)") }
        templates = try MessageTemplate.parseList(json["templates"])
    }
}

/// Sends one-time codes with Aliyun Direct Mail's `SingleSendMail` API (version 2015-11-23).
public struct AliyunDirectMailConnector: EmailConnector {
    public let config: AliyunDirectMailConfig
    let context: ConnectorContext
    /// Fresh per call: nonce and timestamp (injectable for tests).
    let nonce: @Sendable () -> String
    let now: @Sendable () -> Date
    let timeout: TimeAmount

    public init(config: AliyunDirectMailConfig, context: ConnectorContext,
                nonce: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() },
                now: @escaping @Sendable () -> Date = { Date() }, timeout: TimeAmount = .seconds(10))
    {
        self.config = config
        self.context = context
        self.nonce = nonce
        self.now = now
        self.timeout = timeout
    }

    public func sendMessage(to address: String, type: UsageType, payload: MessagePayload) async throws {
        let template = try MessageTemplate.select(config.templates, for: type)
        let subject = MessageTemplate.render(template.subject, payload: payload)
        let body = MessageTemplate.render(template.content, payload: payload, html: true)
        do {
            try await send(to: address, subject: subject, body: body)
        } catch let error as Retryable {
            // One retry, with a new nonce, after a connection failure or a 5xx; never after a 4xx.
            context.logger.warning("Aliyun Direct Mail failed; retrying once", metadata: ["reason": "\(error.reason)"])
            do {
                try await send(to: address, subject: subject, body: body)
            } catch let again as Retryable {
                throw again.error
            }
        }
    }

    /// The signed form parameters of one `SingleSendMail` request.
    public func parameters(to address: String, subject: String, body: String) -> [String: String] {
        var parameters = [
            "AccessKeyId": config.accessKeyId, "Action": "SingleSendMail", "Version": "2015-11-23", "Format": "JSON",
            "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": nonce(),
            "Timestamp": Self.timestamp(now()), "RegionId": config.regionId, "AccountName": config.accountName,
            "AddressType": "1", "ReplyToAddress": "false", "ToAddress": address, "Subject": subject, "HtmlBody": body,
        ]
        if let alias = config.fromAlias { parameters["FromAlias"] = alias }
        parameters["Signature"] = AliyunSignature.signature(method: "POST", parameters: parameters,
                                                            secret: config.accessKeySecret)
        return parameters
    }

    private struct Retryable: Error {
        let error: ConnectorError
        let reason: String
    }

    private func send(to address: String, subject: String, body: String) async throws {
        let parameters = parameters(to: address, subject: subject, body: body)
        var request = HTTPClientRequest(url: config.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let form = parameters.map { AliyunSignature.percentEncode($0.key) + "=" + AliyunSignature.percentEncode($0.value) }
            .joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: form))
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await context.httpClient.execute(request, timeout: timeout)
            bytes = try await response.body.collect(upTo: 1 << 20)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            // Not retried: Aliyun may have sent the mail, and a second one would confuse the reader.
            throw ConnectorError(.timeout, "Aliyun Direct Mail did not answer within \(timeout.nanoseconds / 1_000_000_000) s")
        } catch {
            // No connection, or it broke before an answer: nothing was accepted, so one retry is safe.
            throw Retryable(error: ConnectorError(.providerError, "cannot reach Aliyun Direct Mail at \(config.endpoint)"),
                            reason: "connection failed")
        }
        let json = try? JSONValue.decode(Data(bytes.readableBytesView))
        if (200..<300).contains(response.status.code), json?["EnvId"] != nil || json?["RequestId"] != nil {
            return
        }
        let failure = Self.error(status: Int(response.status.code), body: json)
        if response.status.code >= 500 { throw Retryable(error: failure, reason: "HTTP \(response.status.code)") }
        throw failure
    }

    /// Aliyun's error JSON (`Code`, `Message`, `RequestId`) as a connector error that keeps the RequestId.
    public static func error(status: Int, body: JSONValue?) -> ConnectorError {
        let code = body?["Code"]?.stringValue ?? "HTTP\(status)"
        let message = body?["Message"]?.stringValue ?? "unexpected answer from Aliyun Direct Mail"
        let requestID = body?["RequestId"]?.stringValue
        let kind: ConnectorError.Code
        switch code {
        case "InvalidAccessKeyId.NotFound", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden.RAM",
             "IncompleteSignature", "InvalidAccessKeyId.Inactive":
            kind = .authFailed
        case _ where code.hasPrefix("Throttling"):
            kind = .rateLimited
        case "InvalidMailAddress.NotFound", "InvalidAccountName.Malformed", "InvalidSendMail.Spam":
            kind = .invalidConfig
        default:
            kind = .providerError
        }
        return ConnectorError(kind, "Aliyun Direct Mail: \(code): \(message)"
            + (requestID.map { " (RequestId \($0))" } ?? ""), providerCode: code, requestID: requestID)
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}

public struct AliyunDirectMailFactory: EmailConnectorFactory {
    public init() {}

    public let metadata = ConnectorMetadata(
        id: "aliyun-direct-mail", kind: .email,
        fields: [
            .init("accessKeyId"),
            .init("accessKeySecret", secret: true),
            .init("accountName"),
            .init("fromAlias", optional: true),
            .init("regionId", optional: true),
            .init("endpoint", optional: true),
            .init("templates", .templates),
        ])

    public func validate(_ config: JSONValue) throws {
        _ = try AliyunDirectMailConfig(config)
    }

    public func makeConnector(config: JSONValue, context: ConnectorContext) throws -> any EmailConnector {
        AliyunDirectMailConnector(config: try AliyunDirectMailConfig(config), context: context)
    }
}

import Foundation
import Logging
@testable import SesameConnectors
import SesameOIDC
import Testing

@Suite("Aliyun Direct Mail")
struct AliyunDirectMailTests {
    struct Vector: Decodable, Sendable, CustomTestStringConvertible {
        let method: String
        let access_key_secret: String
        let params: [String: String]
        let string_to_sign: String
        let signature: String
        let signature_tea_sdk: String

        var testDescription: String { method + " " + (params["Subject"] ?? "") }
    }

    /// The known answers Aliyun's official SDKs computed (shared/design/aliyun-dm-signature-vectors.json).
    static let vectors: [Vector] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/aliyun-dm-signature-vectors.json")
        guard let data = try? Data(contentsOf: url), let vectors = try? JSONDecoder().decode([Vector].self, from: data)
        else { return [] }
        return vectors
    }()

    @Test func theVectorsAreLoaded() {
        #expect(Self.vectors.count == 2)
    }

    @Test(arguments: vectors)
    func signaturesMatchTheOfficialSDKs(_ vector: Vector) {
        #expect(AliyunSignature.stringToSign(method: vector.method, parameters: vector.params) == vector.string_to_sign)
        let signature = AliyunSignature.signature(method: vector.method, parameters: vector.params,
                                                  secret: vector.access_key_secret)
        #expect(signature == vector.signature)
        #expect(signature == vector.signature_tea_sdk)
    }

    @Test(arguments: [("a b", "a%20b"), ("*", "%2A"), ("~", "~"), ("你", "%E4%BD%A0"), ("a+b=c&d/", "a%2Bb%3Dc%26d%2F")])
    func percentEncodingFollowsAliyun(_ raw: String, _ encoded: String) {
        #expect(AliyunSignature.percentEncode(raw) == encoded)
    }

    static let valid: JSONValue = [
        "accessKeyId": "testAccessKeyId", "accessKeySecret": "testAccessKeySecret",
        "accountName": "noreply@mail.example.test", "fromAlias": "IAM Test",
        "templates": [
            ["subject": "Your code: {{code}}", "content": "<p>Register: {{code}}</p>", "usageType": "Register"],
            ["subject": "Sign in", "content": "<p>Sign in: {{code}}</p>", "usageType": "SignIn"],
            ["subject": "Code", "content": "<p>{{code}}</p>", "usageType": "Generic"],
        ],
    ]

    static func replacing(_ key: String, with value: JSONValue?) -> JSONValue {
        var object = valid.objectValue ?? [:]
        object[key] = value
        return .object(object)
    }

    @Test(arguments: [
        (replacing("accessKeyId", with: nil), "'accessKeyId' is required"),
        (replacing("accessKeySecret", with: ""), "'accessKeySecret' is required"),
        (replacing("accountName", with: 3), "'accountName' must be a string"),
        (replacing("accountName", with: "noreply"), "'accountName' must be the sender address"),
        (replacing("endpoint", with: "ftp://dm.aliyuncs.com"), "'endpoint'"),
        (replacing("templates", with: []), "'templates' must be a non-empty array"),
        (replacing("templates", with: [["subject": "s", "content": "no code", "usageType": "Generic"]]), "{{code}}"),
        (replacing("templates", with: [["subject": "s", "content": "{{code}}", "usageType": "Login"]]), "usageType"),
        (replacing("templates", with: [["content": "{{code}}", "usageType": "Generic"]]), "'templates[0].subject'"),
        (replacing("templates", with: [
            ["subject": "a", "content": "{{code}}", "usageType": "SignIn"],
            ["subject": "b", "content": "{{code}}", "usageType": "SignIn"],
        ]), "'templates[1].usageType': there is already a SignIn template"),
        (.string("not an object"), "JSON object"),
    ] as [(JSONValue, String)])
    func invalidConfigurationsNameTheField(_ config: JSONValue, _ message: String) {
        do {
            _ = try AliyunDirectMailConfig(config)
            Issue.record("accepted \(config)")
        } catch let error as ConnectorError {
            #expect(error.code == .invalidConfig)
            #expect(error.message.contains(message), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func requestParametersAreSignedWithAFreshNonceAndUTCTime() throws {
        let config = try AliyunDirectMailConfig(Self.valid)
        #expect(config.endpoint == "https://dm.aliyuncs.com/")
        #expect(config.regionId == "cn-hangzhou")
        let connector = AliyunDirectMailConnector(
            config: config, context: ConnectorContext(logger: Logger(label: "test")),
            nonce: { "c0ffee00-0000-4000-8000-000000000001" }, now: { Date(timeIntervalSince1970: 1_735_787_045) })
        let parameters = connector.parameters(to: "alice@example.test,bob@example.test", subject: "Your code: 123456",
                                              body: "<p>Hi Alice ~ *x* a+b=c&d /?% 你好</p>")
        // The same inputs as the first known-answer vector give the same signature.
        #expect(parameters["Timestamp"] == "2025-01-02T03:04:05Z")
        #expect(parameters["Signature"] == "wz//urHmxDbtlWxw1HTtSD4bfrE=")
        #expect(parameters["Action"] == "SingleSendMail")
        #expect(parameters["AddressType"] == "1")
        #expect(parameters["ReplyToAddress"] == "false")
        #expect(parameters["FromAlias"] == "IAM Test")
    }

    @Test(arguments: [
        (403, ["Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found.", "RequestId": "R1"],
         ConnectorError.Code.authFailed),
        (400, ["Code": "SignatureDoesNotMatch", "Message": "bad", "RequestId": "R2"], .authFailed),
        (400, ["Code": "InvalidMailAddress.NotFound", "Message": "no sender", "RequestId": "R3"], .invalidConfig),
        (400, ["Code": "InvalidToAddress", "Message": "bad to", "RequestId": "R4"], .providerError),
        (400, ["Code": "Throttling.User", "Message": "slow down", "RequestId": "R5"], .rateLimited),
        (503, ["Code": "ServiceUnavailable", "Message": "later", "RequestId": "R6"], .providerError),
    ] as [(Int, JSONValue, ConnectorError.Code)])
    func aliyunErrorsKeepTheirRequestID(_ status: Int, _ body: JSONValue, _ code: ConnectorError.Code) {
        let error = AliyunDirectMailConnector.error(status: status, body: body)
        #expect(error.code == code)
        #expect(error.message.contains(body["Code"]?.stringValue ?? "?"))
        #expect(error.message.contains("RequestId " + (body["RequestId"]?.stringValue ?? "?")))
        #expect(error.providerCode == body["Code"]?.stringValue)
        #expect(error.requestID == body["RequestId"]?.stringValue)
    }

    @Test func templatesFallBackToGeneric() async throws {
        var config = try AliyunDirectMailConfig(Self.valid)
        // No ForgotPassword template: Generic is used; a usage type with its own template keeps it.
        #expect(try MessageTemplate.select(config.templates, for: .forgotPassword).subject == "Code")
        #expect(try MessageTemplate.select(config.templates, for: .signIn).subject == "Sign in")
        config.templates.removeAll { $0.usageType == .generic }
        let withoutGeneric = AliyunDirectMailConnector(config: config, context: ConnectorContext(logger: Logger(label: "t")))
        do {
            try await withoutGeneric.sendMessage(to: "a@b.test", type: .forgotPassword, payload: .init(code: "1"))
            Issue.record("sent without a template")
        } catch let error as ConnectorError {
            #expect(error.code == .templateNotFound)
        }
    }
}

import Foundation
import SesameOIDC

/// One audit event: what happened, to whom, through which application, from where, and details
/// (never a code, a password, a token or a secret).
public struct AuditEvent: Sendable, Equatable {
    public var id: String
    /// Stable kinds, e.g. `SignIn.Success`, `SignIn.Failure`, `Register.Success`, `PasswordReset.Success`,
    /// `VerificationCode.Sent`, `Token.authorization_code`, `Admin.User.Update`.
    public var key: String
    public var userID: String?
    public var applicationID: String?
    public var ip: String?
    public var payload: JSONValue
    public var createdAt: Date

    public init(key: String, userID: String? = nil, applicationID: String? = nil, ip: String? = nil,
                payload: JSONValue = [:], createdAt: Date)
    {
        id = SecureRandom.identifier()
        self.key = key
        self.userID = userID
        self.applicationID = applicationID
        self.ip = ip
        self.payload = payload
        self.createdAt = createdAt
    }

    public init(id: String, key: String, userID: String?, applicationID: String?, ip: String?, payload: JSONValue,
                createdAt: Date)
    {
        self.id = id
        self.key = key
        self.userID = userID
        self.applicationID = applicationID
        self.ip = ip
        self.payload = payload
        self.createdAt = createdAt
    }
}

public struct AuditQuery: Sendable {
    public var userID: String?
    public var applicationID: String?
    /// Matches the key exactly, or every key under it when it ends with `.` (e.g. `SignIn.`).
    public var key: String?
    public var from: Date?
    public var to: Date?
    public var offset: Int
    public var limit: Int

    public init(userID: String? = nil, applicationID: String? = nil, key: String? = nil, from: Date? = nil,
                to: Date? = nil, offset: Int = 0, limit: Int = 20)
    {
        self.userID = userID
        self.applicationID = applicationID
        self.key = key
        self.from = from
        self.to = to
        self.offset = offset
        self.limit = limit
    }
}

public protocol AuditLogStore: Sendable {
    func insertAuditEvents(_ events: [AuditEvent]) async throws
    func auditEvents(_ query: AuditQuery) async throws -> (events: [AuditEvent], total: Int)
}

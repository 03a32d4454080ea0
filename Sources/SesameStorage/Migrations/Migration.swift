/// A numbered, append-only schema change with its SQL for each dialect. Compiled into the binary so
/// Sesame ships as one file.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let sqlite: String
    public let postgres: String

    public func sql(for dialect: SQLDialect) -> String {
        dialect == .sqlite ? sqlite : postgres
    }

    /// Every migration, in order. Append only: a released migration never changes.
    public static let all: [Migration] = [.m0001Initial, .m0002Connectors, .m0003SignInExperience, .m0004Experiences, .m0005ManagementClients, .m0006AuditLog,
                                          .m0007Console, .m0008ApplicationSecrets, .m0009SecretCheck, .m0010BrandingAssets, .m0011Roles,
                                          .m0012Organizations, .m0013OrganizationInvitations, .m0014OrganizationConsents, .m0015Mfa,
                                          .m0016IdTokenAlgorithms, .m0017ClaimsRequests,
                                          .m0018UserProfiles, .m0019ClientAssertions, .m0020DeviceCodes]
}

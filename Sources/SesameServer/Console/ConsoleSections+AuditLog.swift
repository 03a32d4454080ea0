import Foundation
import HTTPTypes
import Hummingbird
import SesameIdentity
import SesameOIDC
import SesameStorage

/// The audit log, filtered by kind, user, application and time, newest first.
extension ConsoleSections {
    static let eventsPerPage = 50
    /// The filter's kinds: a key ending in `.` matches every key under it.
    static let eventKinds = [
        "", "SignIn.", "SignIn.Success", "SignIn.Failure", "Register.Success", "PasswordReset.Success",
        "VerificationCode.Sent", "Token.", "Admin.", "Connector.Test",
    ]

    func registerAuditLog(on console: RouterGroup<SesameRequestContext>) {
        console.get("audit-log") { request, context in
            let visit = visit(request, context)
            let query = try request.queryParameters()
            let filters: [String: String] = [
                "userId": try query.text("userId") ?? "", "applicationId": try query.text("applicationId") ?? "",
                "from": try query.text("from") ?? "", "to": try query.text("to") ?? "",
            ]
            let kind = try query.text("logKey") ?? ""
            let pager = try ConsolePager(query, perPage: Self.eventsPerPage)
            var timeError: String?
            var from: Date?
            var to: Date?
            do {
                from = try Self.time(filters["from"] ?? "")
                to = try Self.time(filters["to"] ?? "")
            } catch {
                timeError = visit.t("timeFormat")
            }
            await runtime.audit.flush()
            let result = try await runtime.store.auditEvents(AuditQuery(
                userID: filters["userId"]?.nilIfEmpty, applicationID: filters["applicationId"]?.nilIfEmpty,
                key: kind.nilIfEmpty, from: from, to: to, offset: pager.offset, limit: pager.perPage))
            var kept = filters.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            if !kind.isEmpty { kept.append(("logKey", kind)) }
            var model = pager.model(total: result.total, path: "/console/audit-log", filters: kept,
                                    text: visit.text, countKey: "countEvents")
            model.merge([
                "filters": filters,
                "kinds": Self.eventKinds.map { value in
                    ["value": value, "label": value.isEmpty ? visit.t("allEvents") : value, "isSelected": value == kind]
                },
                "events": result.events.map { event in
                    var row: [String: Any] = [
                        "time": Self.timestamp(event.createdAt), "key": event.key, "ip": event.ip ?? "",
                        "payload": event.payload.objectValue?.isEmpty == false ? Self.prettyJSON(event.payload) : "",
                    ]
                    row["userID"] = event.userID
                    row["applicationID"] = event.applicationID
                    return row
                },
            ] as [String: Any]) { _, new in new }
            model["error"] = timeError
            return visit.page("audit-log", title: visit.t("auditLog"), section: .auditLog, model: model,
                              status: timeError == nil ? .ok : .badRequest)
        }
    }

    /// `datetime-local` values (`2026-11-25T10:30`, seconds optional), read as UTC.
    static func time(_ text: String) throws -> Date? {
        guard !text.isEmpty else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        throw IdentityError.invalidInput(phrase: "audit_log.invalid_time")
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }
}

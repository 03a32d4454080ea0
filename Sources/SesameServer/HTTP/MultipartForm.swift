import Foundation
import Hummingbird
import MultipartKit
import NIOCore
import SesameOIDC

/// A `multipart/form-data` body (RFC 7578), as a file input posts it: its text fields and its files.
struct MultipartForm: Sendable {
    /// The text fields, under the same rules as a URL-encoded form (control characters refused).
    let fields: RequestParameters
    /// Each file part's bytes by field name (the last one wins when a name repeats).
    let files: [String: Data]

    /// Parses `body` with the `boundary` of its `Content-Type`. Throws `OAuthError.invalidRequest` for a body
    /// that is not well-formed multipart or a text field with refused control characters.
    init(_ body: ByteBuffer, boundary: String) throws {
        var fields: [String: [String]] = [:]
        var files: [String: Data] = [:]
        var headers: [(String, String)] = []
        var current = ByteBuffer()
        var sawPart = false
        var failure: OAuthError?
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in headers.append((name.lowercased(), value)) }
        parser.onBody = { chunk in current.writeBuffer(&chunk) }
        parser.onPartComplete = {
            sawPart = true
            defer { headers = []; current = ByteBuffer() }
            guard let disposition = headers.first(where: { $0.0 == "content-disposition" })?.1,
                  let name = Self.parameter("name", in: disposition)
            else { return }
            if Self.parameter("filename", in: disposition) != nil {
                files[name] = Data(current.readableBytesView)
            } else {
                if current.readableBytesView.contains(where: RequestParameters.isRefusedControl) {
                    failure = .invalidRequest("the form holds control characters")
                }
                fields[name, default: []].append(String(decoding: current.readableBytesView, as: UTF8.self))
            }
        }
        do {
            try parser.execute(body)
        } catch {
            throw OAuthError.invalidRequest("the request body is not valid multipart/form-data")
        }
        if let failure { throw failure }
        guard sawPart else { throw OAuthError.invalidRequest("the request body is not valid multipart/form-data") }
        self.fields = RequestParameters(fields)
        self.files = files
    }

    /// A parameter of a header value (`name="logo"`), quoted or not.
    static func parameter(_ name: String, in header: String) -> String? {
        for part in header.split(separator: ";").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == name else { continue }
            var value = pair[1]
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }
}

extension Request {
    /// The body as `multipart/form-data` (at most the server's body limit, 1 MiB). Throws
    /// `OAuthError.invalidRequest` for another content type, a missing or over-long boundary (RFC 2046 §5.1.1:
    /// 1 to 70 characters) or a malformed body, and `payloadTooLarge` past the limit.
    func multipartForm() async throws -> MultipartForm {
        let contentType = headers[.contentType] ?? ""
        guard contentType.lowercased().hasPrefix("multipart/form-data"),
              let boundary = MultipartForm.parameter("boundary", in: contentType), (1...70).contains(boundary.count)
        else { throw OAuthError.invalidRequest("the request body must be multipart/form-data with a boundary") }
        return try MultipartForm(try await bodyBytes(), boundary: boundary)
    }
}

import Crypto
import Foundation
import SesameOIDC

/// An image uploaded in the Console for the hosted pages (the logo), stored by Sesame and served from its own
/// origin at `/assets/branding/<id>`, so the pages' Content-Security-Policy (`img-src 'self' https: data:`)
/// allows it on an http development endpoint too.
public struct BrandingAsset: Sendable, Equatable {
    /// The SHA-256 of the bytes in lowercase hex, then the extension (`9f86….png`): the same image is stored
    /// once, and its URL never changes meaning, so it may be cached for good.
    public let id: String
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    public let contentType: String
    public let data: Data
    public let createdAt: Date

    public init(id: String, contentType: String, data: Data, createdAt: Date) {
        self.id = id
        self.contentType = contentType
        self.data = data
        self.createdAt = createdAt
    }

    /// The largest image accepted: 512 KiB.
    public static let maximumSize = 512 * 1024

    /// An asset from uploaded bytes, typed by their signature (never by the name or type the browser sent):
    /// PNG, JPEG, GIF or WebP. SVG is refused: it can carry scripts.
    /// Throws `IdentityError.invalidInput` (`branding.logo_empty`, `branding.logo_too_large`,
    /// `branding.logo_not_image`).
    public static func image(_ data: Data, now: Date) throws -> BrandingAsset {
        guard !data.isEmpty else { throw IdentityError.invalidInput(phrase: "branding.logo_empty") }
        guard data.count <= maximumSize else {
            throw IdentityError.invalidInput(phrase: "branding.logo_too_large", ["kib": String(maximumSize / 1024)])
        }
        guard let (contentType, fileExtension) = kind(of: data) else {
            throw IdentityError.invalidInput(phrase: "branding.logo_not_image")
        }
        let digest = SecretDigest.hex(SHA256.hash(data: data))
        return BrandingAsset(id: digest + "." + fileExtension, contentType: contentType, data: data, createdAt: now)
    }

    /// The image format by its magic bytes (PNG: ISO/IEC 15948 §5.2; JPEG: SOI marker; GIF87a/89a; WebP: RIFF
    /// container with the `WEBP` form type).
    static func kind(of data: Data) -> (contentType: String, fileExtension: String)? {
        let bytes = [UInt8](data.prefix(12))
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return ("image/png", "png") }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return ("image/jpeg", "jpg") }
        if bytes.starts(with: Array("GIF87a".utf8)) || bytes.starts(with: Array("GIF89a".utf8)) { return ("image/gif", "gif") }
        if bytes.count == 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) {
            return ("image/webp", "webp")
        }
        return nil
    }

    /// Whether `id` has the shape of an asset id (so a lookup never sees arbitrary text).
    public static func isWellFormed(id: String) -> Bool {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && parts[0].count == 64 && parts[0].allSatisfy { $0.isHexDigit && !$0.isUppercase }
            && ["png", "jpg", "gif", "webp"].contains(String(parts[1]))
    }
}

/// Where uploaded branding images live.
public protocol BrandingAssetStore: Sendable {
    /// Stores `asset`; storing the same image again changes nothing.
    func insertBrandingAsset(_ asset: BrandingAsset) async throws
    func brandingAsset(id: String) async throws -> BrandingAsset?
}

import Foundation
import SesameIdentity

extension SQLStore: BrandingAssetStore {
    public func insertBrandingAsset(_ asset: BrandingAsset) async throws {
        try await database.query("""
            INSERT INTO branding_assets (id, content_type, data, created_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (id) DO NOTHING
            """, .text(asset.id), .text(asset.contentType), .text(asset.data.base64EncodedString()),
            .date(asset.createdAt))
    }

    public func brandingAsset(id: String) async throws -> BrandingAsset? {
        try await database.query("SELECT id, content_type, data, created_at FROM branding_assets WHERE id = ?",
                                 .text(id)).first.map { row in
            guard let data = Data(base64Encoded: try row.string("data")) else { throw StorageError.corrupt("data") }
            return BrandingAsset(id: try row.string("id"), contentType: try row.string("content_type"), data: data,
                                 createdAt: try row.date("created_at"))
        }
    }
}

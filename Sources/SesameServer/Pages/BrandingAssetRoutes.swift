import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SesameIdentity
import SesameOIDC
import SesameStorage

/// `GET /assets/branding/<id>`: the images uploaded in the Console for the hosted pages. An id is the
/// SHA-256 of the bytes, so a response never changes and is cached for a year; it is sent with the type
/// found by its signature, `nosniff`, and a policy that runs nothing.
struct BrandingAssetRoutes: Sendable {
    static let path = "/assets/branding/"
    let runtime: SesameRuntime

    func register(on router: Router<SesameRequestContext>) {
        router.get("assets/branding/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard BrandingAsset.isWellFormed(id: id), let asset = try await runtime.store.brandingAsset(id: id) else {
                throw OAuthError(.notFound, "no such image", status: 404)
            }
            return Response(status: .ok, headers: [
                .contentType: asset.contentType, .cacheControl: "public, max-age=31536000, immutable",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                .contentSecurityPolicy: "default-src 'none'; sandbox",
            ], body: .init(byteBuffer: ByteBuffer(bytes: asset.data)))
        }
    }
}

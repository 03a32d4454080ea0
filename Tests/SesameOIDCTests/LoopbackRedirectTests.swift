import Foundation
import SesameOIDC
import Testing

/// RFC 8252 §7.3: a native app registered on a loopback IP literal may use any port at request time; the
/// scheme, host, path and query stay exact, and web apps keep exact matching (OIDC Core §3.1.2.1).
@Suite("Loopback redirect URIs")
struct LoopbackRedirectTests {
    static func client(_ type: ApplicationType, _ uris: [String]) -> Client {
        Client(id: "app", name: "App", type: type, secretHash: nil, redirectURIs: uris, postLogoutRedirectURIs: [],
               createdAt: Date(timeIntervalSince1970: 0))
    }

    static let native = client(.native, ["http://127.0.0.1/callback", "http://[::1]/cb?x=1", "com.example.app:/cb",
                                         "http://localhost/callback"])

    @Test(arguments: [
        "http://127.0.0.1/callback", "http://127.0.0.1:51234/callback", "http://127.0.0.1:1/callback",
        "http://127.0.0.1:65535/callback", "http://[::1]:8080/cb?x=1", "http://[::1]/cb?x=1", "com.example.app:/cb",
        "http://localhost/callback",
    ])
    func nativeAppsMayChooseTheLoopbackPort(_ uri: String) {
        #expect(Self.native.isRegistered(redirectURI: uri))
    }

    @Test(arguments: [
        "https://127.0.0.1:8080/callback",          // scheme
        "http://127.0.0.2:8080/callback",           // another host
        "http://127.0.0.1:8080/callback/",          // path
        "http://127.0.0.1:8080/Callback",
        "http://127.0.0.1:8080/callback?x=1",       // query
        "http://127.0.0.1:8080/callback#f",
        "http://127.0.0.1:65536/callback",          // not a port
        "http://127.0.0.1:/callback",
        "http://127.0.0.1:80a/callback",
        "http://127.0.0.1:8080@evil.test/callback", // userinfo tricks
        "http://evil.test@127.0.0.1:8080/callback",
        "http://127.0.0.1.evil.test/callback",
        "http://[::1]:8080/cb",                      // query must match too
        "http://[::1]:8080/cb?x=2",
        "http://localhost:8080/callback",           // localhost is not a loopback literal (RFC 8252 §8.3)
        "com.example.app:/cb/other",
    ])
    func everythingButThePortStaysExact(_ uri: String) {
        #expect(!Self.native.isRegistered(redirectURI: uri))
    }

    @Test(arguments: [ApplicationType.traditional, .spa])
    func webAppsKeepExactMatching(_ type: ApplicationType) {
        let web = Self.client(type, ["http://127.0.0.1/callback", "http://127.0.0.1:3000/callback"])
        #expect(web.isRegistered(redirectURI: "http://127.0.0.1/callback"))
        #expect(web.isRegistered(redirectURI: "http://127.0.0.1:3000/callback"))
        #expect(!web.isRegistered(redirectURI: "http://127.0.0.1:3001/callback"))
    }
}

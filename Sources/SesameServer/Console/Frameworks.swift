import SesameOIDC
import SesameStorage

/// The framework cards of the Console's "Create application" page and the integration guide each one
/// shows on the application's page, filled in with this server's values.
struct Framework: Sendable {
    let id: String
    let type: ApplicationType
    /// Suggested redirect and post sign-out URIs, editable before the app is created.
    let redirectURI: String?
    let postLogoutRedirectURI: String?
    /// The guide template (`guide-...`).
    let guide: String

    static let all: [Framework] = [
        Framework(id: "authjs", type: .traditional,
                  redirectURI: "http://localhost:3000/api/auth/callback/logto",
                  postLogoutRedirectURI: "http://localhost:3000", guide: "guide-authjs"),
        Framework(id: "express", type: .traditional,
                  redirectURI: "http://localhost:3000/callback", postLogoutRedirectURI: "http://localhost:3000",
                  guide: "guide-express"),
        Framework(id: "flask", type: .traditional,
                  redirectURI: "http://localhost:5000/callback", postLogoutRedirectURI: "http://localhost:5000",
                  guide: "guide-flask"),
        Framework(id: "web", type: .traditional, redirectURI: nil,
                  postLogoutRedirectURI: nil, guide: "guide-generic"),
        Framework(id: "react", type: .spa,
                  redirectURI: "http://localhost:5173/callback", postLogoutRedirectURI: "http://localhost:5173",
                  guide: "guide-spa"),
        Framework(id: "spa", type: .spa, redirectURI: nil, postLogoutRedirectURI: nil,
                  guide: "guide-generic"),
        Framework(id: "appauth-ios", type: .native,
                  redirectURI: "com.example.app://callback", postLogoutRedirectURI: "com.example.app://signed-out",
                  guide: "guide-native"),
        Framework(id: "appauth-android", type: .native,
                  redirectURI: "com.example.app://callback", postLogoutRedirectURI: "com.example.app://signed-out",
                  guide: "guide-native"),
        Framework(id: "m2m", type: .machineToMachine, redirectURI: nil,
                  postLogoutRedirectURI: nil, guide: "guide-m2m"),
    ]

    /// The card's name in the Console's language (`console.framework.<id>`).
    func name(_ text: ConsoleText) -> String { text("framework." + id) }

    static func find(_ id: String?) -> Framework? {
        all.first { $0.id == id }
    }

    /// The guide for an app created without a card (CLI or API).
    static func standard(for type: ApplicationType) -> Framework {
        switch type {
        case .traditional: all[0]
        case .spa: all[4]
        case .native: all[6]
        case .machineToMachine: all[8]
        }
    }
}

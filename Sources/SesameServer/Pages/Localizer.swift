import Foundation

/// The hosted pages' text in English and Simplified Chinese. The language comes from the authorization
/// request's `ui_locales`, then `Accept-Language`, then the first language the settings offer.
struct Localizer: Sendable {
    let language: String

    static let supported = ["en", "zh-CN"]

    init(uiLocales: String?, acceptLanguage: String?, offered: [String]) {
        let offered = offered.isEmpty ? ["en"] : offered
        var candidates: [String] = []
        candidates += (uiLocales ?? "").split(separator: " ").map(String.init)
        candidates += (acceptLanguage ?? "").split(separator: ",").map {
            String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces)
        }
        language = candidates.lazy.compactMap { Self.match($0, offered: offered) }.first ?? offered[0]
    }

    private static func match(_ tag: String, offered: [String]) -> String? {
        let lower = tag.lowercased()
        if lower.hasPrefix("zh") { return offered.contains("zh-CN") ? "zh-CN" : nil }
        if lower.hasPrefix("en") { return offered.contains("en") ? "en" : nil }
        return nil
    }

    /// The table for templates (`{{t.key}}`).
    var table: [String: String] { language == "zh-CN" ? Self.chinese : Self.english }

    func callAsFunction(_ key: String) -> String { table[key] ?? Self.english[key] ?? key }

    static let english: [String: String] = [
        "signIn": "Sign in", "signInTo": "to continue to", "signInToAccount": "to your account",
        "identifier": "Username or email", "email": "Email", "password": "Password", "newPassword": "New password",
        "code": "Verification code", "name": "Name (optional)", "submit": "Continue", "cancel": "Cancel",
        "signInWithCode": "Sign in with an email code", "signInWithPassword": "Sign in with a password",
        "createAccount": "Create an account", "register": "Create your account", "forgotPassword": "Forgot your password?",
        "resetPassword": "Reset your password", "sendCode": "Send code", "resend": "Send a new code",
        "codeSentTo": "We sent a 6-digit code to", "haveAccount": "Already have an account?",
        "noAccount": "No account uses this address.", "createWithThis": "Create an account with it",
        "passwordChanged": "Your password was changed. Sign in with your new password.",
        "signedIn": "Signed in", "signedInLead": "You are signed in. You can return to your application.",
        "signedOut": "Signed out", "signedOutLead": "You have signed out. You can close this window.",
        "authorize": "Authorize", "isAsking": "is asking to:", "allow": "Allow", "deny": "Deny",
        "signOut": "Sign out", "signOutQuestion": "Do you want to sign out of this account?",
        "errorTitle": "Something went wrong", "errorCode": "Error code", "terms": "Terms of use",
        "privacy": "Privacy policy", "back": "Back to sign in",
        "wrongCredentials": "The username, email or password is incorrect.",
        "tooManyAttempts": "Too many failed attempts. Wait 15 minutes and try again.",
        "suspended": "This account is suspended. Contact the administrator.",
        "missingCredentials": "Enter your username or email and your password.",
        "invalidEmail": "Enter a valid email address.", "emailTaken": "This email already has an account. Sign in instead.",
        "signUpOff": "Creating accounts is turned off.", "methodOff": "This way of signing in is turned off.",
        "neutralSent": "If an account uses this address, we sent it a code.",
    ]

    static let chinese: [String: String] = [
        "signIn": "登录", "signInTo": "以继续使用", "signInToAccount": "登录你的账户",
        "identifier": "用户名或邮箱", "email": "邮箱", "password": "密码", "newPassword": "新密码",
        "code": "验证码", "name": "姓名（可选）", "submit": "继续", "cancel": "取消",
        "signInWithCode": "使用邮箱验证码登录", "signInWithPassword": "使用密码登录",
        "createAccount": "创建账户", "register": "创建你的账户", "forgotPassword": "忘记密码？",
        "resetPassword": "重置密码", "sendCode": "发送验证码", "resend": "重新发送验证码",
        "codeSentTo": "我们已向以下地址发送 6 位验证码：", "haveAccount": "已有账户？",
        "noAccount": "该邮箱尚未注册。", "createWithThis": "使用该邮箱创建账户",
        "passwordChanged": "密码已修改，请使用新密码登录。",
        "signedIn": "已登录", "signedInLead": "你已登录，可以返回你的应用。",
        "signedOut": "已退出", "signedOutLead": "你已退出登录，可以关闭此窗口。",
        "authorize": "授权", "isAsking": "请求以下权限：", "allow": "允许", "deny": "拒绝",
        "signOut": "退出登录", "signOutQuestion": "确定要退出此账户吗？",
        "errorTitle": "出错了", "errorCode": "错误代码", "terms": "服务条款", "privacy": "隐私政策",
        "back": "返回登录",
        "wrongCredentials": "用户名、邮箱或密码不正确。",
        "tooManyAttempts": "失败次数过多，请 15 分钟后再试。",
        "suspended": "该账户已被停用，请联系管理员。",
        "missingCredentials": "请输入用户名或邮箱以及密码。",
        "invalidEmail": "请输入有效的邮箱地址。", "emailTaken": "该邮箱已注册，请直接登录。",
        "signUpOff": "已关闭注册。", "methodOff": "该登录方式已关闭。",
        "neutralSent": "如果该邮箱已注册，我们已向其发送验证码。",
    ]
}

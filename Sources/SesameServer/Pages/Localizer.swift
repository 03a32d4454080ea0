import Foundation
import SesameIdentity

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
            String($0.split(separator: ";", omittingEmptySubsequences: false).first ?? "").trimmingCharacters(in: .whitespaces)
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
        "noAccountYet": "No account uses this address yet:", "accountExists": "An account already uses this address:",
        "signInInstead": "Sign in instead", "codeFirstSignIn": "Sign in with a password instead",
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
        "invalidEmail": "Enter a valid email address.",
        "signUpOff": "Creating accounts is turned off.", "methodOff": "This way of signing in is turned off.",
        "sendFailed": "The code could not be sent. Try again later.",
        "codeInvalid": "This code is not valid; ask for a new one.",
        "username": "Username", "usernameTaken": "This username is taken. Choose another one.",
        "usernameRules": "Letters, digits and underscores; it cannot start with a digit.",
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
        "noAccountYet": "该邮箱尚未注册：", "accountExists": "该邮箱已注册：",
        "signInInstead": "直接登录", "codeFirstSignIn": "改用密码登录",
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
        "invalidEmail": "请输入有效的邮箱地址。",
        "signUpOff": "已关闭注册。", "methodOff": "该登录方式已关闭。",
        "sendFailed": "验证码发送失败，请稍后再试。",
        "codeInvalid": "验证码无效，请获取新的验证码。",
        "username": "用户名", "usernameTaken": "该用户名已被使用，请换一个。",
        "usernameRules": "由字母、数字和下划线组成，不能以数字开头。",
    ]

    /// A domain error for the person on the page, in the page's language. The domain's messages are
    /// English; the ones the hosted pages show have their Chinese here, numbers carried over.
    func message(_ error: IdentityError) -> String {
        guard language == "zh-CN" else { return error.message }
        let number = error.message.firstMatch(of: /\d+/).map { String($0.output) } ?? ""
        for (english, chinese) in Self.chineseMessages where error.message.hasPrefix(english) {
            return chinese.replacingOccurrences(of: "#", with: number)
        }
        switch error.code {
        case .invalidCode, .codeExpired: return "验证码无效，请获取新的验证码。"
        case .weakPassword: return "密码不符合要求。"
        case .tooManyAttempts: return "尝试次数过多，请稍后再试。"
        default: return error.message
        }
    }

    /// English message prefixes and their Chinese, `#` standing for the number in the message.
    static let chineseMessages: [(String, String)] = [
        ("a code was just sent; wait", "验证码刚刚已发送，请 # 秒后再试。"),
        ("too many codes were sent", "发送的验证码过多，请一小时后再试。"),
        ("this code is not valid", "验证码无效，请获取新的验证码。"),
        ("this code has expired", "验证码已过期，请获取新的验证码。"),
        ("too many wrong codes", "错误次数过多，请获取新的验证码。"),
        ("the code is incorrect", "验证码不正确。"),
        ("this code was already used", "该验证码已被使用，请获取新的验证码。"),
        ("the password must have at least", "密码至少需要 # 个字符。"),
        ("the password must have at most", "密码最多 # 个字符。"),
        ("the password must mix at least", "密码需要至少包含以下 # 类字符：小写字母、大写字母、数字、符号。"),
        ("the password must not contain", "密码不能包含你的姓名、用户名或邮箱。"),
        ("this password is too common", "该密码过于常见，请换一个。"),
        ("enter a password", "请输入密码。"),
        ("too many failed attempts", "失败次数过多，请 15 分钟后再试。"),
    ]
}

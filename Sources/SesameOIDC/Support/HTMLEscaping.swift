extension String {
    /// The text as HTML character data or an attribute value: `&`, `<`, `>`, `"` and `'` as character references
    /// (HTML Living Standard §13.1.4, and safe inside either kind of quoted attribute).
    public var htmlEscaped: String {
        var escaped = ""
        escaped.reserveCapacity(utf8.count)
        for character in self {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

import Foundation
import SesameOIDC

/// One page of a Console list: which page was asked for (1 to 1,000,000), its offset, and the model the
/// templates' pager shows, with links that keep the list's filters.
struct ConsolePager {
    let page: Int
    let perPage: Int

    init(_ query: RequestParameters, perPage: Int) throws {
        page = min(max(1, Int(try query.single("page") ?? "1") ?? 1), 1_000_000)
        self.perPage = perPage
    }

    var offset: Int { (page - 1) * perPage }

    /// `page`, `pageCount`, `pageLabel` ("Page 2 of 5"), `totalText` (`countKey` counted, "1 user"), and
    /// `previous` and `next` links to `path` with `filters` and the page number.
    func model(total: Int, path: String, filters: [(String, String)], text: ConsoleText, countKey: String)
        -> [String: Any]
    {
        let pageCount = max(1, (total + perPage - 1) / perPage)
        func link(_ number: Int) -> String {
            path + "?" + RequestParameters.encode(filters + [("page", String(number))])
        }
        var model: [String: Any] = [
            "page": page, "pageCount": pageCount, "total": total, "totalText": text.counted(countKey, total),
            "pageLabel": text("pageOf", ["page": String(page), "pages": String(pageCount)]),
        ]
        if page > 1 { model["previous"] = link(page - 1) }
        if page < pageCount { model["next"] = link(page + 1) }
        return model
    }
}

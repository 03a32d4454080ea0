import SesameOIDC

/// A QR code (ISO/IEC 18004) for short text such as a TOTP `otpauth://` URI: byte mode, error correction level
/// L or M, the smallest version (1 to 40) that holds the text, and the mask with the lowest penalty (§7.8.3).
/// No QR library is in reach for Swift here; the tests decode what this draws with a real decoder (`zbarimg`).
public struct QRCode: Sendable {
    public enum Correction: Sendable {
        /// About 7% of the codewords can be restored.
        case low
        /// About 15%: what authenticator setup screens use.
        case medium

        /// The two format bits (§7.9.1).
        var formatBits: Int { self == .low ? 1 : 0 }
        var index: Int { self == .low ? 0 : 1 }
    }

    public enum EncodingError: Error, Sendable {
        /// More than a version-40 code holds at this correction level.
        case tooLong
    }

    /// 1 to 40.
    public let version: Int
    /// Modules per side: `version * 4 + 17`.
    public let size: Int
    /// 0 to 7.
    public private(set) var mask: Int
    /// `modules[y][x]`, true for dark.
    public private(set) var modules: [[Bool]]
    private var isFunction: [[Bool]]

    /// Encodes `text` (its UTF-8 bytes). Throws `EncodingError.tooLong`.
    public init(_ text: String, correction: Correction = .medium) throws {
        let data = Array(text.utf8)
        guard let version = (1...40).first(where: { version in
            let countBits = version < 10 ? 8 : 16
            return data.count < 1 << countBits
                && 4 + countBits + data.count * 8 <= Self.dataCodewords(version, correction) * 8
        }) else { throw EncodingError.tooLong }
        self.version = version
        size = version * 4 + 17
        modules = Array(repeating: Array(repeating: false, count: size), count: size)
        isFunction = modules
        mask = 0

        // The data codewords: mode, length, bytes, terminator, then the pad bytes (§7.4).
        var bits = BitBuffer()
        bits.append(0b0100, count: 4)
        bits.append(data.count, count: version < 10 ? 8 : 16)
        for byte in data { bits.append(Int(byte), count: 8) }
        let capacity = Self.dataCodewords(version, correction) * 8
        bits.append(0, count: min(4, capacity - bits.count))
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var pad = 0xEC
        while bits.count < capacity {
            bits.append(pad, count: 8)
            pad ^= 0xEC ^ 0x11
        }

        drawFunctionPatterns(correction)
        drawCodewords(Self.interleaved(bits.bytes, version: version, correction: correction))
        var best = (mask: 0, penalty: Int.max)
        for candidate in 0..<8 {
            applyMask(candidate)
            drawFormatBits(correction, mask: candidate)
            let penalty = self.penalty()
            if penalty < best.penalty { best = (candidate, penalty) }
            applyMask(candidate)  // XOR again: undone
        }
        mask = best.mask
        applyMask(mask)
        drawFormatBits(correction, mask: mask)
        isFunction = []
    }

    /// The code as SVG: `scale` pixels per module, a 4-module quiet zone, black on white, one path.
    public func svg(scale: Int = 4, title: String? = nil) -> String {
        let side = (size + 8) * scale
        var path = ""
        for y in 0..<size {
            for x in 0..<size where modules[y][x] {
                path += "M\(x + 4),\(y + 4)h1v1h-1z"
            }
        }
        let label = title.map { "<title>\($0.htmlEscaped)</title>" } ?? ""
        return #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(size + 8) \#(size + 8)" width="\#(side)" "#
            + #"height="\#(side)" shape-rendering="crispEdges" role="img">\#(label)"#
            + #"<rect width="100%" height="100%" fill="white"/><path d="\#(path)" fill="black"/></svg>"#
    }

    // MARK: Tables (§7.5.1, table 9): error correction codewords per block and blocks, per version.

    private static let eccPerBlock: [[Int]] = [
        [-1, 7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28,
         30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [-1, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28,
         28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
    ]
    private static let blockCounts: [[Int]] = [
        [-1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17,
         18, 19, 19, 20, 21, 22, 24, 25],
        [-1, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29,
         31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
    ]

    /// Modules left for codewords once the function patterns are drawn.
    static func rawDataModules(_ version: Int) -> Int {
        var result = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignments = version / 7 + 2
            result -= (25 * alignments - 10) * alignments - 55
            if version >= 7 { result -= 36 }
        }
        return result
    }

    static func dataCodewords(_ version: Int, _ correction: Correction) -> Int {
        rawDataModules(version) / 8
            - eccPerBlock[correction.index][version] * blockCounts[correction.index][version]
    }

    /// Splits the data into blocks, adds each block's Reed-Solomon codewords, and interleaves them (§7.6).
    static func interleaved(_ data: [UInt8], version: Int, correction: Correction) -> [UInt8] {
        let blocks = blockCounts[correction.index][version]
        let eccLength = eccPerBlock[correction.index][version]
        let raw = rawDataModules(version) / 8
        let shortBlocks = blocks - raw % blocks
        let shortLength = raw / blocks
        let divisor = ReedSolomon.divisor(degree: eccLength)
        var split: [[UInt8]] = []
        var offset = 0
        for index in 0..<blocks {
            let length = shortLength - eccLength + (index < shortBlocks ? 0 : 1)
            let chunk = Array(data[offset..<offset + length])
            offset += length
            var block = chunk
            if index < shortBlocks { block.append(0) }
            block += ReedSolomon.remainder(chunk, divisor: divisor)
            split.append(block)
        }
        var result: [UInt8] = []
        for position in 0..<split[0].count {
            for (index, block) in split.enumerated() where position != shortLength - eccLength || index >= shortBlocks {
                result.append(block[position])
            }
        }
        return result
    }

    // MARK: Drawing

    private mutating func setFunction(_ x: Int, _ y: Int, _ dark: Bool) {
        modules[y][x] = dark
        isFunction[y][x] = true
    }

    private mutating func drawFunctionPatterns(_ correction: Correction) {
        for index in 0..<size {
            setFunction(6, index, index % 2 == 0)
            setFunction(index, 6, index % 2 == 0)
        }
        for (x, y) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            for dy in -4...4 {
                for dx in -4...4 where (0..<size).contains(x + dx) && (0..<size).contains(y + dy) {
                    let distance = max(abs(dx), abs(dy))
                    setFunction(x + dx, y + dy, distance != 2 && distance != 4)
                }
            }
        }
        let positions = alignmentPositions()
        for (i, x) in positions.enumerated() {
            for (j, y) in positions.enumerated() {
                let last = positions.count - 1
                if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
                for dy in -2...2 {
                    for dx in -2...2 { setFunction(x + dx, y + dy, max(abs(dx), abs(dy)) != 1) }
                }
            }
        }
        drawFormatBits(correction, mask: 0)  // reserved now, drawn for real once the mask is chosen
        if version >= 7 {
            var remainder = version
            for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
            let bits = version << 12 | remainder
            for index in 0..<18 {
                let dark = (bits >> index) & 1 == 1
                let a = size - 11 + index % 3
                let b = index / 3
                setFunction(a, b, dark)
                setFunction(b, a, dark)
            }
        }
    }

    /// The centres of the alignment patterns on each axis (§6.3.6, Annex E).
    private func alignmentPositions() -> [Int] {
        guard version > 1 else { return [] }
        let count = version / 7 + 2
        let step = version == 32 ? 26 : (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2
        var result = [6]
        var position = size - 7
        var tail: [Int] = []
        for _ in 0..<(count - 1) {
            tail.insert(position, at: 0)
            position -= step
        }
        result += tail
        return result
    }

    /// The 15 format bits, BCH-protected and masked (§7.9), in both copies, and the dark module.
    private mutating func drawFormatBits(_ correction: Correction, mask: Int) {
        let data = correction.formatBits << 3 | mask
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        let bits = (data << 10 | remainder) ^ 0x5412
        func bit(_ index: Int) -> Bool { (bits >> index) & 1 == 1 }
        for index in 0...5 { setFunction(8, index, bit(index)) }
        setFunction(8, 7, bit(6))
        setFunction(8, 8, bit(7))
        setFunction(7, 8, bit(8))
        for index in 9..<15 { setFunction(14 - index, 8, bit(index)) }
        for index in 0..<8 { setFunction(size - 1 - index, 8, bit(index)) }
        for index in 8..<15 { setFunction(8, size - 15 + index, bit(index)) }
        setFunction(8, size - 8, true)
    }

    /// Codeword bits in the zigzag of two-module columns, right to left, skipping function modules (§7.7.3).
    private mutating func drawCodewords(_ data: [UInt8]) {
        var index = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vertical in 0..<size {
                for offset in 0..<2 {
                    let x = right - offset
                    let upward = (right + 1) & 2 == 0
                    let y = upward ? size - 1 - vertical : vertical
                    if !isFunction[y][x], index < data.count * 8 {
                        modules[y][x] = (data[index >> 3] >> (7 - (index & 7))) & 1 == 1
                        index += 1
                    }
                }
            }
            right -= 2
        }
    }

    /// XORs the data modules with mask pattern `mask` (§7.8.2); applying it twice undoes it.
    private mutating func applyMask(_ mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !isFunction[y][x] {
                let invert = switch mask {
                case 0: (x + y) % 2 == 0
                case 1: y % 2 == 0
                case 2: x % 3 == 0
                case 3: (x + y) % 3 == 0
                case 4: (x / 3 + y / 2) % 2 == 0
                case 5: x * y % 2 + x * y % 3 == 0
                case 6: (x * y % 2 + x * y % 3) % 2 == 0
                default: ((x + y) % 2 + x * y % 3) % 2 == 0
                }
                if invert { modules[y][x].toggle() }
            }
        }
    }

    /// The penalty of §7.8.3: runs of five or more, 2×2 blocks, finder-like patterns, and dark/light balance.
    private func penalty() -> Int {
        var result = 0
        let finderLike: [[Bool]] = [
            [true, false, true, true, true, false, true, false, false, false, false],
            [false, false, false, false, true, false, true, true, true, false, true],
        ]
        for line in lines() {
            var run = 1
            for index in 1..<line.count {
                if line[index] == line[index - 1] {
                    run += 1
                } else {
                    if run >= 5 { result += run - 2 }
                    run = 1
                }
            }
            if run >= 5 { result += run - 2 }
            if line.count >= 11 {
                for start in 0...(line.count - 11) {
                    let window = Array(line[start..<start + 11])
                    if finderLike.contains(window) { result += 40 }
                }
            }
        }
        for y in 0..<(size - 1) {
            for x in 0..<(size - 1) {
                let color = modules[y][x]
                if modules[y][x + 1] == color, modules[y + 1][x] == color, modules[y + 1][x + 1] == color { result += 3 }
            }
        }
        let dark = modules.reduce(0) { $0 + $1.filter { $0 }.count }
        let total = size * size
        result += ((abs(dark * 20 - total * 10) + total - 1) / total - 1) * 10
        return result
    }

    /// Every row, then every column.
    private func lines() -> [[Bool]] {
        modules + (0..<size).map { x in modules.map { $0[x] } }
    }
}

/// Bits appended most significant first.
private struct BitBuffer {
    private(set) var bits: [Bool] = []
    var count: Int { bits.count }

    mutating func append(_ value: Int, count: Int) {
        for index in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> index) & 1 == 1) }
    }

    var bytes: [UInt8] {
        stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<min(start + 8, bits.count)].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
    }
}

/// Reed-Solomon over GF(2⁸) with the QR polynomial x⁸ + x⁴ + x³ + x² + 1 (0x11D), generator roots 2⁰…2ⁿ⁻¹.
enum ReedSolomon {
    static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var z = 0
        for index in stride(from: 7, through: 0, by: -1) {
            z = (z << 1) ^ ((z >> 7) * 0x11D)
            z ^= Int((y >> index) & 1) * Int(x)
        }
        return UInt8(z)
    }

    /// The generator polynomial's coefficients, highest degree first, the leading 1 left out.
    static func divisor(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for index in 0..<degree {
                result[index] = multiply(result[index], root)
                if index + 1 < degree { result[index] ^= result[index + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    static func remainder(_ data: [UInt8], divisor: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: divisor.count)
        for byte in data {
            let factor = byte ^ result.removeFirst()
            result.append(0)
            for index in 0..<result.count { result[index] ^= multiply(divisor[index], factor) }
        }
        return result
    }
}
